// Package policy evaluates the platform's Rego policies (policies/) on
// rendered resources and manifests, with OPA as a library.
package policy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/rego"
)

// Violation is one denied object.
type Violation struct {
	Rule    string `json:"rule"`
	Field   string `json:"field"`
	Message string `json:"msg"`
	Fix     string `json:"fix"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %s [policy %s; fix: %s]", v.Field, v.Message, v.Rule, v.Fix)
}

// Input is what a rule sees; see policies/README.md.
type Input struct {
	Resource map[string]any `json:"resource"`
	XR       map[string]any `json:"xr,omitempty"`
	Composed []Ref          `json:"composed,omitempty"`
	Source   string         `json:"source"`
	Schema   *Schema        `json:"schema,omitempty"`
	// Shared, when set, stands for XR and Composed, converted once per XR
	// (Share).
	Shared *Shared `json:"-"`
}

// Schema is what the resource's CRD says about it, so rules need no lists
// of kinds: whether spec.forProvider has tags and region.
type Schema struct {
	Taggable bool `json:"taggable"`
	Regional bool `json:"regional"`
}

// Ref is a sibling composed resource: its kind and composition resource
// name, and the whole object for rules that need to look inside (which
// security group a load balancer uses, say).
type Ref struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Name       string         `json:"name"`
	Resource   map[string]any `json:"resource,omitempty"`
}

// Sources of an Input.
const (
	SourceComposed = "composed"
	SourceManifest = "manifest"
)

// Engine holds the compiled policies; Eval is safe for concurrent use.
type Engine struct {
	q rego.PreparedEvalQuery
}

// Load compiles every non-test .rego file in dir.
func Load(ctx context.Context, dir string) (*Engine, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.rego"))
	if err != nil {
		return nil, err
	}
	opts := []func(*rego.Rego){rego.Query("v := data.unsilo[_].deny[_]")}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.rego") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		opts = append(opts, rego.Module(f, string(b)))
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("no policies in %s", dir)
	}
	q, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot compile policies in %s: %w", dir, err)
	}
	return &Engine{q: q}, nil
}

// Eval returns the violations for one input, sorted by rule and field.
func (e *Engine) Eval(ctx context.Context, in Input) ([]Violation, error) {
	v, err := in.value()
	if err != nil {
		return nil, err
	}
	rs, err := e.q.Eval(ctx, rego.EvalParsedInput(v))
	if err != nil {
		return nil, fmt.Errorf("cannot evaluate policies: %w", err)
	}
	out := make([]Violation, 0, len(rs))
	for _, r := range rs {
		m, ok := r.Bindings["v"].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("policy returned %T, want an object with rule, field, msg, fix", r.Bindings["v"])
		}
		v := Violation{}
		v.Rule, _ = m["rule"].(string)
		v.Field, _ = m["field"].(string)
		v.Message, _ = m["msg"].(string)
		v.Fix, _ = m["fix"].(string)
		if v.Rule == "" || v.Message == "" {
			return nil, fmt.Errorf("policy violation without rule or msg: %v", m)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return out[i].Field < out[j].Field
	})
	return out, nil
}
