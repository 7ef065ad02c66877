//go:build e2e

package e2e

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// activateArgs picks the activation command the installed n8n offers:
// `update:workflow --all --active=true` in 1.x, `publish:workflow` where
// that replaced it. (`n8n --help` does not list commands, so each
// candidate's own --help is asked.)
func activateArgs(t *testing.T, env []string, n8n string) []string {
	t.Helper()
	for _, cand := range [][]string{{"update:workflow", "--all", "--active=true"}, {"publish:workflow", "--all"}} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, n8n, cand[0], "--help")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil && strings.Contains(string(out), "USAGE") {
			return cand
		}
	}
	t.Fatal("n8n offers neither update:workflow nor publish:workflow")
	return nil
}
