{{/* Egress/ingress rule fragments shared by the NetworkPolicies in networkpolicy.yaml. */}}

{{/* DNS: CoreDNS in kube-system. */}}
{{- define "hackathon-todo.np.dns" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}
{{- define "hackathon-todo.np.daprControlPlane" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .Values.networkPolicy.daprNamespace }}
  ports:
    - port: 50001
      protocol: TCP
    - port: 6500
      protocol: TCP
    - port: 50005
      protocol: TCP
    - port: 50006
      protocol: TCP
{{- end }}
{{- define "hackathon-todo.np.ingressController" -}}
- namespaceSelector:
    matchLabels:
      kubernetes.io/metadata.name: {{ .Values.networkPolicy.ingressController.namespace }}
  {{- with .Values.networkPolicy.ingressController.podLabels }}
  podSelector:
    matchLabels:
      {{- toYaml . | nindent 6 }}
  {{- end }}
{{- end }}
{{- define "hackathon-todo.np.external" -}}
{{- if .ports }}
- to:
    {{- range .cidrs }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    {{- range .ports }}
    - port: {{ .port }}
      protocol: TCP
    {{- end }}
{{- end }}
{{- end }}
