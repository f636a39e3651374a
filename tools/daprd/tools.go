//go:build tools

// Package tools only pins github.com/dapr/dapr/cmd/daprd in go.mod and go.sum;
// the tools build tag keeps it out of every build.
package tools

import _ "github.com/dapr/dapr/cmd/daprd"
