//go:build tools

// Package tools pins gotestsum, which prints the test summary CI reads.
package tools

import _ "gotest.tools/gotestsum"
