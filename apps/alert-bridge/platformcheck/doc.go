// Package platformcheck holds tests only: see platform_test.go.
package platformcheck
