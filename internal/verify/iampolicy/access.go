package iampolicy

import "fmt"

// Access is every policy AWS evaluates for one request inside one account
// (the platform's case; cross-account requests are an AWS service's own
// account writing to a bucket, where only the resource policy can say
// yes).
type Access struct {
	// Identity holds the caller's identity policies; nil when the caller is
	// an AWS service or another account, whose own policies are AWS's.
	Identity []*Policy
	// Boundary is the caller's permissions boundary, if it has one.
	Boundary *Policy
	// Resource is the resource's policy (bucket policy, key policy), if any.
	Resource *Policy
	// KeyPolicy: Resource is a KMS key policy, which must allow the call
	// itself; naming the account there delegates to the IAM policies.
	KeyPolicy bool
}

// Verdict is the final decision with the reason a reviewer reads.
type Verdict struct {
	Allowed bool
	Reason  string
}

// Decide applies AWS's evaluation logic: an explicit Deny in any policy
// wins; a KMS key policy must allow; otherwise a resource policy that
// names the caller allows on its own, and else the identity policies must
// allow; a permissions boundary must allow either way.
func (a Access) Decide(r Request) (Verdict, error) {
	var ids []Result
	for i, p := range a.Identity {
		res, err := p.Evaluate(r)
		if err != nil {
			return Verdict{}, fmt.Errorf("identity policy %d: %w", i, err)
		}
		if res.Decision == ExplicitDeny {
			return Verdict{Reason: "denied by identity policy statement " + res.Statement}, nil
		}
		ids = append(ids, res)
	}
	var bound, resource Result
	var err error
	if a.Boundary != nil {
		if bound, err = a.Boundary.Evaluate(r); err != nil {
			return Verdict{}, fmt.Errorf("permissions boundary: %w", err)
		}
		if bound.Decision == ExplicitDeny {
			return Verdict{Reason: "denied by permissions boundary statement " + bound.Statement}, nil
		}
	}
	if a.Resource != nil {
		if resource, err = a.Resource.Evaluate(r); err != nil {
			return Verdict{}, fmt.Errorf("resource policy: %w", err)
		}
		if resource.Decision == ExplicitDeny {
			return Verdict{Reason: "denied by resource policy statement " + resource.Statement}, nil
		}
	}
	identityAllows := false
	for _, res := range ids {
		if res.Decision == Allowed {
			identityAllows = true
		}
	}
	withinBoundary := a.Boundary == nil || bound.Decision == Allowed
	switch {
	case a.Identity == nil:
		if resource.Decision == Allowed {
			return Verdict{Allowed: true, Reason: "allowed by resource policy statement " + resource.Statement}, nil
		}
		return Verdict{Reason: "no statement of the resource policy allows it"}, nil
	case a.KeyPolicy && resource.Decision != Allowed:
		return Verdict{Reason: "the key policy does not allow it"}, nil
	case !withinBoundary:
		// A boundary limits a role even where a resource policy names the
		// role (only a session ARN escapes it, which the platform never uses).
		return Verdict{Reason: "outside the permissions boundary"}, nil
	case resource.Decision == Allowed && !resource.ViaAccount:
		return Verdict{Allowed: true, Reason: "allowed by resource policy statement " + resource.Statement}, nil
	case !identityAllows:
		return Verdict{Reason: "no identity policy statement allows it"}, nil
	}
	return Verdict{Allowed: true, Reason: "allowed by identity policy"}, nil
}
