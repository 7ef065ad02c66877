//go:build tools

// Package tools pins the crossplane CLI (cmd/crank) that `make tools` builds.
package tools

import _ "github.com/crossplane/crossplane/v2/cmd/crank"
