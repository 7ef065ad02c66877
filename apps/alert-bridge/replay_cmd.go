package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/alert-bridge/server"
	"github.com/unsilo/unsilo/apps/alert-bridge/store"
)

type adminTarget struct {
	db, addr, token string
}

func (a *adminTarget) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&a.db, "db", "alert-bridge.db", "outbox file (only while alert-bridge is stopped: bbolt locks it)")
	cmd.Flags().StringVar(&a.addr, "addr", "", "base URL of a running alert-bridge (uses /v1/admin; needs --admin-token)")
	cmd.Flags().StringVar(&a.token, "admin-token", "", "admin bearer token for --addr")
}

func (a *adminTarget) call(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(a.addr, "/")+path, rd)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

func (a *adminTarget) open() (*store.Store, error) {
	st, err := store.Open(a.db, store.Options{LockTimeout: 500 * time.Millisecond})
	if err != nil {
		return nil, fmt.Errorf("%w (if alert-bridge is running, use --addr and --admin-token)", err)
	}
	return st, nil
}

func replayCmd(stdout io.Writer) *cobra.Command {
	var a adminTarget
	var all bool
	cmd := &cobra.Command{
		Use:   "replay [id...]",
		Short: "Re-queue dead letters (by id, or --all) with their original Idempotency-Key",
		RunE: func(cmd *cobra.Command, ids []string) error {
			if err := envDefaults(cmd.Flags()); err != nil {
				return err
			}
			if all == (len(ids) > 0) {
				return errors.New("give dead-letter ids or --all")
			}
			var replayed []string
			if a.addr != "" {
				var resp server.ReplayResponse
				if err := a.call(cmd.Context(), http.MethodPost, "/v1/admin/replay", server.ReplayRequest{IDs: ids, All: all}, &resp); err != nil {
					return err
				}
				replayed = resp.Replayed
			} else {
				st, err := a.open()
				if err != nil {
					return err
				}
				defer st.Close()
				if replayed, err = st.Replay(cmd.Context(), ids); err != nil {
					return err
				}
			}
			for _, id := range replayed {
				fmt.Fprintln(stdout, id)
			}
			fmt.Fprintf(stdout, "re-queued %d dead letter(s)\n", len(replayed))
			return nil
		},
	}
	a.flags(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "replay every dead letter")
	return cmd
}

func deadCmd(stdout io.Writer) *cobra.Command {
	var a adminTarget
	cmd := &cobra.Command{
		Use:   "dead",
		Short: "List dead letters as JSON lines",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := envDefaults(cmd.Flags()); err != nil {
				return err
			}
			var dead []server.DeadLetter
			if a.addr != "" {
				var resp struct {
					DeadLetters []server.DeadLetter `json:"deadLetters"`
				}
				if err := a.call(cmd.Context(), http.MethodGet, "/v1/admin/dead", nil, &resp); err != nil {
					return err
				}
				dead = resp.DeadLetters
			} else {
				st, err := a.open()
				if err != nil {
					return err
				}
				defer st.Close()
				msgs, err := st.DeadLetters(1 << 30)
				if err != nil {
					return err
				}
				dead = server.DeadLetters(msgs)
			}
			enc := json.NewEncoder(stdout)
			for _, d := range dead {
				if err := enc.Encode(d); err != nil {
					return fmt.Errorf("write: %w", err)
				}
			}
			return nil
		},
	}
	a.flags(cmd)
	return cmd
}

func compactCmd(stdout io.Writer) *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "compact",
		Short: "Rewrite the outbox file without its free pages (alert-bridge stopped; serve also does it on start when the file is sparse)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			before, after, err := store.Compact(db)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: %d -> %d bytes\n", db, before, after)
			return nil
		},
	}
	cmd.Flags().StringVar(&db, "db", "alert-bridge.db", "outbox file")
	return cmd
}
