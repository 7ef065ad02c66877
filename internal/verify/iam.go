package verify

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/functions/controlplane"
	"github.com/unsilo/unsilo/internal/verify/iampolicy"
)

// controlPlaneFacts is what a Cluster's render says about the roles the
// platform may create: its provider's policy and its boundary.
type controlPlaneFacts struct {
	xr          string
	provider    []*iampolicy.Policy
	providerErr error
	boundary    *iampolicy.Policy
	boundaryErr error
	boundaryARN string
	account     string
}

// indexControlPlanes finds every Cluster render's boundary policy (by
// ARN) and its Crossplane provider role's policies.
func indexControlPlanes(all []convergedXR) map[string]*controlPlaneFacts {
	out := map[string]*controlPlaneFacts{}
	for _, c := range all {
		if c.xr.GetKind() != "Cluster" {
			continue
		}
		acct, _, _ := unstructured.NestedString(c.xr.Object, "spec", "accountId")
		f := &controlPlaneFacts{xr: c.xr.ID(), account: acct, boundaryARN: controlplane.BoundaryARN(acct, c.xr.GetNamespace(), c.xr.GetName())}
		for i := range c.out.Composed {
			cd := &c.out.Composed[i]
			switch {
			case cd.GetKind() == "Policy" && isGroup(cd, "iam.") && cd.GetAnnotations()["crossplane.io/external-name"] == controlplane.BoundaryName(c.xr.GetNamespace(), c.xr.GetName()):
				f.boundary, f.boundaryErr = iampolicy.ParseString(nested(cd, "spec", "forProvider", "policy"))
			case cd.GetKind() == "Role" && isGroup(cd, "iam.") && nested(cd, "spec", "forProvider", "path") == controlplane.ProviderPath:
				for _, d := range inlinePolicies(cd) {
					p, err := iampolicy.ParseString(d)
					if err != nil {
						f.providerErr = err
					}
					f.provider = append(f.provider, p)
				}
			}
		}
		out[f.boundaryARN] = f
	}
	return out
}

// checkRoles: every IAM role the platform composes is one its Crossplane
// provider may create, change and pass, and nothing more than it may be:
//   - under /unsilo/ with a permissions boundary a Cluster of the
//     repository composes (the provider's own role excepted);
//   - the provider's policy allows iam:CreateRole with that boundary,
//     iam:PutRolePolicy and iam:AttachRolePolicy on it, and iam:PassRole to
//     each service its trust policy names;
//   - no inline statement allows iam:* or *, iam:PassRole is scoped to
//     roles and services, and every action it allows lies within the
//     boundary (else the grant is dead: the role cannot do what its policy
//     says).
func checkRoles(all []convergedXR) []Finding {
	cps := indexControlPlanes(all)
	var fs []Finding
	for _, c := range all {
		for i := range c.out.Composed {
			cd := &c.out.Composed[i]
			if cd.GetKind() == "InstanceProfile" && isGroup(cd, "iam.") {
				fs = append(fs, profileProblems(c, cd, cps)...)
				continue
			}
			if cd.GetKind() != "Role" || !isGroup(cd, "iam.") {
				continue
			}
			add := func(field, reason string) {
				f := composedFinding(c.xr, cd, field, reason, "aws-iam")
				f.File, f.Line = c.xr.File, c.xr.Line
				fs = append(fs, f)
			}
			for _, r := range grantProblems(cd) {
				add("spec.forProvider.inlinePolicy", r)
			}
			path := nested(cd, "spec", "forProvider", "path")
			if path == controlplane.ProviderPath {
				if c.xr.GetKind() != "Cluster" {
					add("spec.forProvider.path", controlplane.ProviderPath+" is the Crossplane provider's own role, which only a Cluster composes")
				}
				continue
			}
			boundary := nested(cd, "spec", "forProvider", "permissionsBoundary")
			cp, ok := cps[boundary]
			switch {
			case boundary == "":
				add("spec.forProvider.permissionsBoundary", "a role the platform creates carries the control plane's permissions boundary: the provider may create no other role (and a role without one could be given any power)")
				continue
			case !ok:
				add("spec.forProvider.permissionsBoundary", fmt.Sprintf("%s is the boundary of no Cluster in the repository, so nothing shows the provider may create this role", boundary))
				continue
			case cp.providerErr != nil || cp.boundaryErr != nil || cp.boundary == nil:
				add("spec.forProvider.permissionsBoundary", fmt.Sprintf("the policies of control plane %s cannot be evaluated: %v %v", cp.xr, cp.providerErr, cp.boundaryErr))
				continue
			}
			for _, r := range providerProblems(cd, cp, path) {
				add("spec.forProvider", r)
			}
			for _, r := range outsideBoundary(cd, cp) {
				add("spec.forProvider.inlinePolicy", r)
			}
		}
	}
	return fs
}

// roleName is the role's AWS name: its external name, or what Crossplane
// generates from generateName.
func roleName(cd *unstructured.Unstructured) string {
	if n := cd.GetAnnotations()["crossplane.io/external-name"]; n != "" {
		return n
	}
	if n := cd.GetName(); n != "" {
		return n
	}
	return cd.GetGenerateName() + "x7k2p"
}

func providerProblems(cd *unstructured.Unstructured, cp *controlPlaneFacts, path string) []string {
	if path == "" {
		path = "/"
	}
	arn := "arn:aws:iam::" + cp.account + ":role" + path + roleName(cd)
	who := iampolicy.Principal{AWS: "arn:aws:iam::" + cp.account + ":role" + controlplane.ProviderPath + "provider"}
	withBoundary := map[string][]string{"iam:PermissionsBoundary": {cp.boundaryARN}}
	reqs := []iampolicy.Request{
		{Principal: who, Action: "iam:CreateRole", Resource: arn, Context: withBoundary},
		{Principal: who, Action: "iam:TagRole", Resource: arn},
		{Principal: who, Action: "iam:DeleteRole", Resource: arn},
	}
	if len(inlinePolicies(cd)) > 0 {
		reqs = append(reqs, iampolicy.Request{Principal: who, Action: "iam:PutRolePolicy", Resource: arn, Context: withBoundary})
	}
	for _, svc := range trustedServices(cd) {
		reqs = append(reqs, iampolicy.Request{Principal: who, Action: "iam:PassRole", Resource: arn, Context: map[string][]string{"iam:PassedToService": {svc}}})
	}
	var out []string
	for _, r := range reqs {
		v, err := iampolicy.Access{Identity: cp.provider}.Decide(r)
		if err != nil {
			return append(out, fmt.Sprintf("the provider policy of %s cannot be evaluated: %v", cp.xr, err))
		}
		if !v.Allowed {
			out = append(out, fmt.Sprintf("the Crossplane provider (%s) may not %s on %s: %s", cp.xr, r.Action, arn, v.Reason))
		}
	}
	return out
}

// trustedServices are the service principals a role's trust policy lets
// assume it: the services the role is passed to.
func trustedServices(cd *unstructured.Unstructured) []string {
	var doc struct {
		Statement []struct {
			Effect    string
			Principal map[string]any
		}
	}
	if json.Unmarshal([]byte(nested(cd, "spec", "forProvider", "assumeRolePolicy")), &doc) != nil {
		return nil
	}
	var out []string
	for _, s := range doc.Statement {
		if s.Effect != "Allow" {
			continue
		}
		switch v := s.Principal["Service"].(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, x := range v {
				out = append(out, str(x))
			}
		}
	}
	return out
}

// inlineStatements decodes a role's inline statements loosely (strings or
// lists), for the grant checks; evaluation uses iampolicy.
type looseStatement struct {
	Sid      string
	Effect   string
	Action   any
	Resource any
}

func list(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, str(e))
		}
		return out
	}
	return nil
}

func statementsOf(cd *unstructured.Unstructured) []looseStatement {
	var out []looseStatement
	for _, d := range inlinePolicies(cd) {
		var doc struct{ Statement []looseStatement }
		if json.Unmarshal([]byte(d), &doc) == nil {
			out = append(out, doc.Statement...)
		}
	}
	return out
}

// grantProblems: no iam:* or *, and iam:PassRole only on named roles.
func grantProblems(cd *unstructured.Unstructured) []string {
	var out []string
	for _, s := range statementsOf(cd) {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range list(s.Action) {
			switch la := strings.ToLower(a); la {
			case "*", "iam:*":
				out = append(out, fmt.Sprintf("statement %s allows %s: IAM administration makes the role admin-equivalent", s.Sid, a))
			case "iam:passrole":
				for _, r := range list(s.Resource) {
					if r == "*" || strings.HasSuffix(r, ":role/*") {
						out = append(out, fmt.Sprintf("statement %s allows iam:PassRole on %s: pass only the platform's roles (a path) to named services", s.Sid, r))
					}
				}
			}
		}
	}
	return out
}

// outsideBoundary lists the inline actions the boundary does not allow.
func outsideBoundary(cd *unstructured.Unstructured, cp *controlPlaneFacts) []string {
	var out []string
	for _, s := range statementsOf(cd) {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range list(s.Action) {
			if strings.ContainsAny(a, "*?") {
				continue // a pattern: the boundary's own patterns decide per call
			}
			res, err := cp.boundary.Evaluate(iampolicy.Request{Action: a, Resource: "*"})
			if err != nil || res.Decision != iampolicy.Allowed {
				out = append(out, fmt.Sprintf("statement %s allows %s, which the permissions boundary of %s does not: the grant is dead", s.Sid, a, cp.xr))
			}
		}
	}
	return out
}

// profileProblems: the provider may create an instance profile only under
// /unsilo/ and put only a platform role in it.
func profileProblems(c convergedXR, cd *unstructured.Unstructured, cps map[string]*controlPlaneFacts) []Finding {
	role := composedNamed(c, component(cd, "roleSelector"))
	if role == nil {
		return nil // a role of another XR or account: nothing here to judge
	}
	cp, ok := cps[nested(role, "spec", "forProvider", "permissionsBoundary")]
	if !ok || cp.providerErr != nil {
		return nil // the role's own finding says why
	}
	path := nested(cd, "spec", "forProvider", "path")
	if path == "" {
		path = "/"
	}
	arn := "arn:aws:iam::" + cp.account + ":instance-profile" + path + roleName(cd)
	who := iampolicy.Principal{AWS: "arn:aws:iam::" + cp.account + ":role" + controlplane.ProviderPath + "provider"}
	var fs []Finding
	for _, action := range []string{"iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile", "iam:DeleteInstanceProfile"} {
		v, err := iampolicy.Access{Identity: cp.provider}.Decide(iampolicy.Request{Principal: who, Action: action, Resource: arn})
		if err != nil || !v.Allowed {
			reason := fmt.Sprintf("the Crossplane provider (%s) may not %s on %s", cp.xr, action, arn)
			if err == nil {
				reason += ": " + v.Reason
			}
			f := composedFinding(c.xr, cd, "spec.forProvider.path", reason, "aws-iam")
			f.File, f.Line = c.xr.File, c.xr.Line
			fs = append(fs, f)
		}
	}
	return fs
}
