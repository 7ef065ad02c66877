package team

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/manifest"
)

func TestLoadErrors(t *testing.T) {
	cases := map[string]struct {
		reason string
		dir    string
		want   string
	}{
		"UnknownField": {"a misspelt quota must not mean unlimited", "testdata/teams/notes", `unknown field "maxClaim"`},
		"NameMismatch": {"the folder is the team", "testdata/teams/broken", `name: "not-broken" must equal the folder name "broken"`},
		"NoTeamFile":   {"a folder without team.yaml", "testdata/teams/noteam", "no team.yaml"},
		"OldFormat":    {"top-level quotas moved into environments, and the error says how", "testdata/teams/oldformat", "quotas are per environment now: environments: {dev: {quotas: {...}}}"},
		"NoEnv":        {"a team deploys somewhere", "testdata/teams/noenv", "environments: list the environments the team deploys to"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Load(tc.dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%s: want an error containing %q, got %v", tc.reason, tc.want, err)
			}
		})
	}
	if _, err := Load("testdata/teams/noteam"); !errors.Is(err, ErrNoTeamFile) {
		t.Errorf("want ErrNoTeamFile, got %v", err)
	}
}

func TestCheck(t *testing.T) {
	tm, err := Load("testdata/teams/shop")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.ReadFile("testdata/teams/shop/claims.yaml")
	if err != nil {
		t.Fatal(err)
	}
	isXR := func(u *unstructured.Unstructured) bool { return u.GroupVersionKind().Group == "platform.unsilo.dev" }
	var got []string
	for _, f := range tm.Check("dev", objs, isXR) {
		got = append(got, f.Object.ID()+" "+f.Field+" "+f.Rule+": "+f.Reason)
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"WebPortal/shop/big spec.instances.type team-quota: instance type t3.medium is not among the team's [t3.small]",
		"WebPortal/shop/big spec.database.instanceClass team-quota: DB class db.m7g.large",
		"WebPortal/shop/big spec.instances.max team-quota: 10 instances exceed the team's maxAsgSize 3",
		"StaticSite/shop/site kind team-api: the team may not claim StaticSite",
		`Network/other-team/net metadata.namespace team-namespace: "other-team" is not the team's namespace "shop" (a team's namespace is its folder name)`,
		"Network/other-team/net spec.environment team-environment: prod, but this claim is synced to the dev cluster from teams/shop/dev; set environment: dev or move the file to teams/shop/prod",
		"ConfigMap/shop/sneaky kind team-api: ConfigMap is not a platform API",
		"team-quota: 3 claims in dev exceed maxClaims 2",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no finding %q in:\n%s", want, all)
		}
	}
	if !strings.Contains(all, "(team shop, team.yaml)") {
		t.Error("findings must name the team and its file")
	}
	if strings.Contains(all, "WebPortal/shop/big spec.environment") {
		t.Error("a dev claim in teams/shop/dev is in the right environment")
	}
	// The same claims in prod: prod's quotas allow t3.medium? no, but the
	// claims say dev, and the team deploys to prod: every claim is misplaced.
	var prod []string
	for _, f := range tm.Check("prod", objs, isXR) {
		prod = append(prod, f.Object.ID()+" "+f.Rule)
	}
	if got := strings.Join(prod, "\n"); !strings.Contains(got, "WebPortal/shop/big team-environment") || strings.Contains(got, "maxClaims") {
		t.Errorf("prod has its own quotas and wants prod claims:\n%s", got)
	}
	// An environment the team does not list: one finding, naming the fix.
	fs := tm.Check("qa", objs, isXR)
	if len(fs) != 1 || fs[0].Rule != "team-environment" || !strings.Contains(fs[0].Reason, "team.yaml lists no environment qa (it has [dev prod])") {
		t.Errorf("claims for an environment the team does not deploy to: %v", fs)
	}
}

func TestGovernanceLimitsTheTeam(t *testing.T) {
	tm, err := Load("testdata/teams/shop")
	if err != nil {
		t.Fatal(err)
	}
	g, err := tm.Governance("dev", map[string]string{"Network": "networks", "WebPortal": "webportals", "StaticSite": "staticsites"})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Parse("governance", g)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o.GetKind() {
		case "AppProject":
			dests, _, _ := unstructured.NestedSlice(o.Object, "spec", "destinations")
			if len(dests) != 1 || dests[0].(map[string]any)["namespace"] != "shop" {
				t.Errorf("AppProject destinations %v, want only namespace shop", dests)
			}
			cluster, _, _ := unstructured.NestedSlice(o.Object, "spec", "clusterResourceWhitelist")
			if len(cluster) != 0 {
				t.Errorf("teams may not create cluster-scoped resources: %v", cluster)
			}
			kinds, _, _ := unstructured.NestedSlice(o.Object, "spec", "namespaceResourceWhitelist")
			var got []string
			for _, k := range kinds {
				m := k.(map[string]any)
				got = append(got, m["group"].(string)+"/"+m["kind"].(string))
			}
			if strings.Join(got, ",") != "platform.unsilo.dev/Network,platform.unsilo.dev/WebPortal" {
				t.Errorf("AppProject admits %v, want exactly the kinds in team.yaml", got)
			}
		case "Role":
			rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
			res := rules[0].(map[string]any)["resources"].([]any)
			if len(res) != 2 || res[0] != "networks" || res[1] != "webportals" {
				t.Errorf("Role grants %v, want exactly the allowed APIs", res)
			}
			verbs := rules[0].(map[string]any)["verbs"].([]any)
			for _, v := range verbs {
				if v != "get" && v != "list" && v != "watch" {
					t.Errorf("Role lets the team %s XRs: claims change only through git", v)
				}
			}
		case "Namespace":
			if o.GetName() != "shop" {
				t.Errorf("namespace %s, want the folder name", o.GetName())
			}
			if o.GetAnnotations()["argocd.argoproj.io/sync-options"] != "Prune=false,Delete=false" {
				t.Error("a team's namespace holds its XRs: Argo CD must never delete it")
			}
		}
	}
	if _, err := tm.Governance("dev", map[string]string{"Network": "networks"}); err == nil {
		t.Error("an API in team.yaml that the platform does not serve must be an error")
	}
}
