// Command certs writes the rehearsal control plane's key material into one folder, with Go's
// standard library only (no openssl on the user's machine needed):
//
//	ca.crt, ca.key          a throwaway cluster CA (valid 7 days)
//	apiserver.crt/.key      the API server's serving certificate for 127.0.0.1, localhost and the
//	                        in-cluster names (kubernetes.default.svc and the service IP)
//	admin.crt/.key          a client certificate in system:masters, for the kubeconfig
//	sa.key, sa.pub          the service-account token signing key pair
//
// Usage: certs --dir DIR --service-ip 10.0.0.1
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"log"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

func writePEM(path, kind string, der []byte) {
	b := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		log.Fatalf("write %s: %v", path, err)
	}
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		log.Fatal(err)
	}
	return n
}

func ecKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	return k
}

func writeKey(path string, k *ecdsa.PrivateKey) {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		log.Fatal(err)
	}
	writePEM(path, "EC PRIVATE KEY", der)
}

func main() {
	dir := flag.String("dir", "", "output folder (required)")
	serviceIP := flag.String("service-ip", "10.0.0.1", "first address of --service-cluster-ip-range")
	flag.Parse()
	if *dir == "" {
		log.Fatal("--dir is required")
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		log.Fatal(err)
	}
	now := time.Now().Add(-time.Minute)
	until := now.Add(7 * 24 * time.Hour)

	caKey := ecKey()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "aks-todo-ops-rehearsal-ca"},
		NotBefore:             now,
		NotAfter:              until,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		log.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	writePEM(filepath.Join(*dir, "ca.crt"), "CERTIFICATE", caDER)
	writeKey(filepath.Join(*dir, "ca.key"), caKey)

	issue := func(name string, tmpl *x509.Certificate) {
		k := ecKey()
		tmpl.SerialNumber = serial()
		tmpl.NotBefore = now
		tmpl.NotAfter = until
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			log.Fatal(err)
		}
		writePEM(filepath.Join(*dir, name+".crt"), "CERTIFICATE", der)
		writeKey(filepath.Join(*dir, name+".key"), k)
	}
	issue("apiserver", &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(*serviceIP)},
	})
	issue("admin", &x509.Certificate{
		Subject:     pkix.Name{CommonName: "rehearsal-admin", Organization: []string{"system:masters"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})

	// Service-account tokens are signed with RSA (the API server's default algorithm, RS256).
	sa, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	writePEM(filepath.Join(*dir, "sa.key"), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(sa))
	pub, err := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	if err != nil {
		log.Fatal(err)
	}
	writePEM(filepath.Join(*dir, "sa.pub"), "PUBLIC KEY", pub)
}
