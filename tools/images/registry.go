package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// reference parses an image reference; go-containerregistry speaks plain
// HTTP to loopback registries (the tests' own) by itself.
func reference(s string) (name.Reference, error) { return name.ParseReference(s) }

func remoteOpts() []remote.Option {
	return []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}
}

// present reports whether a reference exists in its registry.
func present(ref name.Reference) (bool, error) {
	_, err := remote.Head(ref, remoteOpts()...)
	var terr *transport.Error
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound:
		return false, nil
	default:
		return false, fmt.Errorf("%s: %w", ref, err)
	}
}

func pushIndex(ref name.Reference, idx v1.ImageIndex) error {
	if err := remote.WriteIndex(ref, idx, remoteOpts()...); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}

// exists: exit 0 when the reference is in its registry, 1 when it is not,
// 2 when the registry cannot tell.
func exists(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: images exists REF")
		return 2
	}
	ref, err := reference(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ok, err := present(ref)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if ok {
		return 0
	}
	return 1
}
