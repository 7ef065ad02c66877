//go:build tools

// Package tools pins Crossplane core, which `make e2e` runs against the
// local API server so Crossplane itself composes XRs through our function.
package tools

import _ "github.com/crossplane/crossplane/v2/cmd/crossplane"
