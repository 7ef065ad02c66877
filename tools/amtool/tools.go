//go:build tools

// Package tools pins amtool, used by `make test` to check the Alertmanager config.
package tools

import _ "github.com/prometheus/alertmanager/cmd/amtool"
