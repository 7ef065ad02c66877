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
	for _, f := range tm.Check(objs, isXR) {
		got = append(got, f.Object.ID()+" "+f.Field+" "+f.Rule+": "+f.Reason)
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"WebPortal/shop/big spec.instances.type team-quota: instance type t3.medium is not among the team's [t3.small]",
		"WebPortal/shop/big spec.database.instanceClass team-quota: DB class db.m7g.large",
		"WebPortal/shop/big spec.instances.max team-quota: 10 instances exceed the team's maxAsgSize 3",
		"StaticSite/shop/site kind team-api: the team may not claim StaticSite",
		`Network/other-team/net metadata.namespace team-namespace: "other-team" is not the team's namespace "shop"`,
		"ConfigMap/shop/sneaky kind team-api: ConfigMap is not a platform API",
		"team-quota: 3 claims exceed maxClaims 2",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no finding %q in:\n%s", want, all)
		}
	}
	if !strings.Contains(all, "(team shop, team.yaml)") {
		t.Error("findings must name the team and its file")
	}
}

func TestGovernanceLimitsTheTeam(t *testing.T) {
	tm, err := Load("testdata/teams/shop")
	if err != nil {
		t.Fatal(err)
	}
	g, err := tm.Governance(map[string]string{"Network": "networks", "WebPortal": "webportals", "StaticSite": "staticsites"})
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
		case "Role":
			rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
			res := rules[0].(map[string]any)["resources"].([]any)
			if len(res) != 2 || res[0] != "networks" || res[1] != "webportals" {
				t.Errorf("Role grants %v, want exactly the allowed APIs", res)
			}
		}
	}
	if _, err := tm.Governance(map[string]string{"Network": "networks"}); err == nil {
		t.Error("an API in team.yaml that the platform does not serve must be an error")
	}
}
