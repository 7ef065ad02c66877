package verify

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/unsilo/unsilo/contracts/awscalls"
	"github.com/unsilo/unsilo/internal/render"
	"github.com/unsilo/unsilo/internal/verify/iampolicy"
)

// ContractsDir holds each app's permissions contract: the AWS calls its
// tests record (<package>.json, contracts/awscalls) and allowance.yaml,
// which names the app's role and every action it may hold beyond them,
// with the reason.
const ContractsDir = "contracts"

// allowance is contracts/<app>/allowance.yaml.
type allowance struct {
	Role struct {
		Kind      string `json:"kind"`      // the XR kind that composes the role
		Component string `json:"component"` // its composition resource name
	} `json:"role"`
	Allow []struct {
		Action string `json:"action"`
		Why    string `json:"why"`
	} `json:"allow"`
	// Configured are recorded actions whose resource the app's
	// configuration chooses (a model id, an index id): the role is judged
	// on the resources it names for them, not the test's.
	Configured []string `json:"configured"`
	// When makes a recording apply only to XRs whose spec field has a
	// value (alert-bridge's sqs.json only where spec.alertBridge.outbox is
	// sqs): keyed by the recording's file name.
	When map[string]struct {
		Field  string `json:"field"` // dotted path in the XR, e.g. spec.alertBridge.outbox
		Equals string `json:"equals"`
	} `json:"when"`
}

// recording is one recorded file's calls and the XRs it applies to.
type recording struct {
	file         string
	field, value string // empty field: every XR
	calls        []awscalls.Call
}

func (r recording) appliesTo(xr *unstructured.Unstructured) bool {
	if r.field == "" {
		return true
	}
	v, _, _ := unstructured.NestedString(xr.Object, strings.Split(r.field, ".")...)
	return v == r.value
}

type contract struct {
	app     string
	file    string // allowance.yaml, for findings
	allow   allowance
	records []recording
	allowed map[string]string // lower-case action -> why
}

// callsFor is what the app calls when composed by xr.
func (k contract) callsFor(xr *unstructured.Unstructured) []awscalls.Call {
	var out []awscalls.Call
	for _, r := range k.records {
		if r.appliesTo(xr) {
			out = append(out, r.calls...)
		}
	}
	return out
}

func (k contract) configured(action string) bool {
	for _, a := range k.allow.Configured {
		if strings.EqualFold(a, action) {
			return true
		}
	}
	return false
}

// loadContracts reads every contracts/<app>/ that has an allowance.yaml.
func loadContracts(root string) ([]contract, error) {
	dirs, err := filepath.Glob(filepath.Join(root, ContractsDir, "*", "allowance.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(dirs)
	var out []contract
	for _, f := range dirs {
		c := contract{app: filepath.Base(filepath.Dir(f)), file: relative(root, f), allowed: map[string]string{}}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if err := yaml.UnmarshalStrict(b, &c.allow); err != nil {
			return nil, fmt.Errorf("%s: %w", c.file, err)
		}
		if c.allow.Role.Kind == "" || c.allow.Role.Component == "" {
			return nil, fmt.Errorf("%s: role.kind and role.component name the app's composed role", c.file)
		}
		for i, a := range c.allow.Allow {
			if a.Action == "" || strings.TrimSpace(a.Why) == "" {
				return nil, fmt.Errorf("%s: allow[%d]: every allowed action says why", c.file, i)
			}
			c.allowed[strings.ToLower(a.Action)] = a.Why
		}
		recorded, _ := filepath.Glob(filepath.Join(filepath.Dir(f), "*.json"))
		sort.Strings(recorded)
		for _, r := range recorded {
			k, err := awscalls.Read(r)
			if err != nil {
				return nil, err
			}
			rec := recording{file: filepath.Base(r), calls: k.Calls}
			if w, ok := c.allow.When[rec.file]; ok {
				if w.Field == "" || w.Equals == "" {
					return nil, fmt.Errorf("%s: when[%s]: field and equals say which XRs the recording applies to", c.file, rec.file)
				}
				rec.field, rec.value = w.Field, w.Equals
			}
			c.records = append(c.records, rec)
		}
		for name := range c.allow.When {
			if !slices.ContainsFunc(c.records, func(r recording) bool { return r.file == name }) {
				return nil, fmt.Errorf("%s: when names %s, which is not a recording beside it", c.file, name)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// checkContracts: each app's composed role allows every call its code
// makes (recorded by its tests), on the resource it made it on where the
// role names that resource, within the role's boundary; and it allows
// nothing else but what the allowance states a reason for.
func checkContracts(all []convergedXR, contracts []contract, account string) []Finding {
	cps := indexControlPlanes(all)
	var fs []Finding
	for _, k := range contracts {
		for _, c := range all {
			if c.xr.GetKind() != k.allow.Role.Kind {
				continue
			}
			role := composedNamed(c, k.allow.Role.Component)
			if role == nil {
				continue
			}
			add := func(reason string) {
				f := composedFinding(c.xr, role, "spec.forProvider.inlinePolicy", k.app+" ("+k.file+"): "+reason, "aws-contract")
				f.File, f.Line = c.xr.File, c.xr.Line
				fs = append(fs, f)
			}
			var identity []*iampolicy.Policy
			for _, d := range inlinePolicies(role) {
				p, err := iampolicy.ParseString(d)
				if err != nil {
					add("the role's policy cannot be evaluated: " + err.Error())
					continue
				}
				identity = append(identity, p)
			}
			var boundary *iampolicy.Policy
			if cp, ok := cps[nested(role, "spec", "forProvider", "permissionsBoundary")]; ok {
				boundary = cp.boundary
			}
			access := iampolicy.Access{Identity: identity, Boundary: boundary}
			granted := grantedResources(role)
			calls := k.callsFor(c.xr.Unstructured)
			for _, call := range calls {
				if k.configured(call.Action) {
					call.Resource = "*"
				}
				if r := judgeCall(access, granted, call, account); r != "" {
					add(r)
				}
			}
			recorded := map[string]bool{}
			for _, call := range calls {
				recorded[strings.ToLower(call.Action)] = true
			}
			for _, a := range sortedActions(granted) {
				if !recorded[strings.ToLower(a)] && k.allowed[strings.ToLower(a)] == "" {
					add(fmt.Sprintf("the role allows %s, which the app's recorded calls never make: drop it, or state why in the allowance", a))
				}
			}
		}
	}
	return fs
}

// grantedResources maps each action a role's Allow statements name to
// the resources they grant it on.
func grantedResources(role *unstructured.Unstructured) map[string][]string {
	out := map[string][]string{}
	for _, s := range statementsOf(role) {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range list(s.Action) {
			out[a] = append(out[a], list(s.Resource)...)
		}
	}
	return out
}

func sortedActions(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// judgeCall returns why the role refuses the call, or "". A call on a
// named resource is evaluated on it when the role names resources of that
// kind for the action (a test's bucket is the lake's); a call on no named
// resource, or on one the render does not know yet, on the resources the
// role grants the action on.
func judgeCall(access iampolicy.Access, granted map[string][]string, call awscalls.Call, account string) string {
	who := iampolicy.Principal{AWS: "arn:aws:iam::" + account + ":role/unsilo/app"}
	res := strings.ReplaceAll(call.Resource, "ACCOUNT", account)
	var candidates []string
	for a, rs := range granted {
		if iampolicy.Wildcard(a, call.Action, true) {
			candidates = append(candidates, rs...)
		}
	}
	if len(candidates) == 0 {
		return fmt.Sprintf("the role does not allow %s (%s), which the app calls", call.Action, call.Operation)
	}
	concrete := res != "*"
	for _, r := range candidates {
		if r == render.Unknown {
			concrete = false // the role names an ARN AWS has not assigned yet
		}
	}
	if concrete {
		v, err := access.Decide(iampolicy.Request{Principal: who, Action: call.Action, Resource: res})
		if err != nil {
			return err.Error()
		}
		if !v.Allowed {
			return fmt.Sprintf("the role refuses %s on %s (%s): %s", call.Action, res, call.Operation, v.Reason)
		}
		return ""
	}
	for _, r := range candidates {
		v, err := access.Decide(iampolicy.Request{Principal: who, Action: call.Action, Resource: r})
		if err == nil && v.Allowed {
			return ""
		}
	}
	return fmt.Sprintf("the role allows %s on none of %v within its boundary", call.Action, candidates)
}
