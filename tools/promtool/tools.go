//go:build tools

// Package tools pins promtool, used by `make test` for rule unit tests.
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
