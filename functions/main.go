// Command functions is the composition function server of the platform: one
// binary, one Function package, every platform API.
package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/crossplane/function-sdk-go"
	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/functions/server"
)

func main() {
	if err := command().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func command() *cobra.Command {
	var (
		debug, insecure bool
		address         string
		certsDir        string
		metrics         string
	)
	c := &cobra.Command{
		Use:          "function-unsilo",
		Short:        "Composition function serving every platform.unsilo.dev API",
		SilenceUsage: true,
		RunE: func(*cobra.Command, []string) error {
			level := slog.LevelInfo
			if debug {
				level = slog.LevelDebug
			}
			log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			srv, err := server.New(log, server.APIs()...)
			if err != nil {
				return err
			}
			log.Info("serving", "address", address, "kinds", srv.Kinds(), "insecure", insecure)
			opts := []function.ServeOption{function.Listen("tcp", address), function.Insecure(insecure)}
			if !insecure {
				opts = append(opts, function.MTLSCertificates(certsDir))
			}
			if metrics != "" {
				opts = append(opts, function.WithMetricsServer(metrics))
			}
			return function.Serve(srv, opts...)
		},
	}
	f := c.Flags()
	f.BoolVarP(&debug, "debug", "d", false, "log at debug level")
	f.BoolVar(&insecure, "insecure", false, "serve without mTLS (crossplane render, local development)")
	f.StringVar(&address, "address", ":9443", "address to listen on")
	f.StringVar(&certsDir, "tls-server-certs-dir", os.Getenv("TLS_SERVER_CERTS_DIR"), "directory holding tls.crt, tls.key and ca.crt (set by Crossplane)")
	f.StringVar(&metrics, "metrics-address", ":8080", "address of the Prometheus metrics endpoint; empty disables it")
	return c
}
