package verify

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fixture is a copy of this repository's tracked files in a fresh git
// repository: commit 1 on main is the release, commit 2 on main pins prod
// to it. atRelease edits the tree before commit 1 (what prod runs), atHead
// edits the working tree after commit 2 (what dev runs, and the change
// under review). It returns the root and the release commit.
func fixture(t *testing.T, atRelease, atHead func(dir string)) (string, string) {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("git", "-C", repo, "ls-files").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		b, err := os.ReadFile(filepath.Join(repo, f))
		if err != nil {
			continue // deleted in the working tree
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) string {
		t.Helper()
		c := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		b, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, b)
		}
		return strings.TrimSpace(string(b))
	}
	run("init", "-q", "-b", "main")
	if atRelease != nil {
		atRelease(dir)
	}
	run("add", "-A")
	run("commit", "-q", "-m", "release")
	rel := run("rev-parse", "HEAD")
	edit(t, dir, "clusters/prod/release/release.yaml", func(s string) string { return pinRE(s, rel) })
	run("add", "-A")
	run("commit", "-q", "-m", "promote")
	if atHead != nil {
		atHead(dir)
	}
	return dir, rel
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	b, err := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, b)
	}
	return strings.TrimSpace(string(b))
}

func write(t *testing.T, dir, file, s string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, file), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func pinRE(s, rel string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "    targetRevision: ") {
			l = "    targetRevision: " + rel
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// edit rewrites one file of a fixture.
func edit(t *testing.T, dir, file string, f func(string) string) {
	t.Helper()
	p := filepath.Join(dir, file)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := f(string(b))
	if s == string(b) {
		t.Fatalf("%s: the edit changed nothing", file)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func replace(t *testing.T, dir, file, old, new string) {
	t.Helper()
	edit(t, dir, file, func(s string) string { return strings.Replace(s, old, new, 1) })
}

// verifyTree runs verify on a fixture as `unsilo verify` does, with the
// schemas, policies and function of base.
func verifyTree(t *testing.T, base *Checker, root string, full bool, only ...string) []string {
	t.Helper()
	c := *base
	c.Root, c.Teams, c.Environments, c.Only = root, true, true, only
	c.Quick, c.NoArtifacts = !full, !full
	overlays, err := Overlays(filepath.Join(root, "clusters"), filepath.Join(root, "platform"), filepath.Join(root, "teams"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Run(context.Background(), nil, overlays)
	if err != nil {
		t.Fatal(err)
	}
	return lines(r)
}

// TestDeliveryFindings: each class of delivery defect, in a copy of this
// repository that is otherwise what is committed, becomes a finding naming
// file, object, field and fix; the unchanged copy has none.
func TestDeliveryFindings(t *testing.T) {
	cases := map[string]struct {
		reason    string
		atRelease func(t *testing.T, dir string)
		atHead    func(t *testing.T, dir string)
		want      []string
		env       string // the environment the case is about; dev when empty
		full      bool   // render XRs and compute artifact tags too
	}{
		"Clean":     {reason: "the tree as committed, released and promoted: dev", env: "dev"},
		"CleanProd": {reason: "the tree as committed, released and promoted: prod at its pin", env: "prod"},
		"ChartVersionRewritten": {
			reason: "a replacement that writes the release's commit into every Application rewrites remote chart versions",
			atHead: func(t *testing.T, d string) {
				replace(t, d, "clusters/dev/apps/kustomization.yaml", "- select: {kind: Application, labelSelector: platform.unsilo.dev/follows=release}", "- select: {kind: Application}")
			},
			want: []string{"platform/observability/apps/kube-prometheus-stack.yaml: Application/argocd/platform-observability-stack: spec.source.targetRevision: chart kube-prometheus-stack at \"", "want a chart version, not a git commit", "[chart-version]"},
		},
		"PathMissingAtRelease": {
			env:    "prod",
			reason: "prod's Applications name paths of the release commit, not of main",
			atRelease: func(t *testing.T, d string) {
				if err := os.RemoveAll(filepath.Join(d, "platform/n8n")); err != nil {
					t.Fatal(err)
				}
				replace(t, d, "platform/argocd/kustomization.yaml", "  - ../n8n/apps\n", "")
				replace(t, d, "platform/argocd/kustomization.yaml", "  - ../secrets/apps\n", "  - ../secrets/apps\n  - ../../apps/rag-api/deploy/extra.yaml\n")
			},
			want: []string{"clusters/prod/release/release.yaml: Application/argocd/release: Argo CD cannot build root > release", "[argocd-source]"},
		},
		"ChildFollowsMain": {
			env:    "prod",
			reason: "a child Application of this repository without the follows label syncs main in prod",
			atRelease: func(t *testing.T, d string) {
				replace(t, d, "apps/rag-api/deploy/application.yaml", "  labels:\n    platform.unsilo.dev/follows: release\n", "")
			},
			want: []string{"Application/argocd/app-rag-api: spec.source.targetRevision: syncs this repository at \"main\", not at the release", "[release-follows]"},
		},
		"RootPinned": {
			env:    "prod",
			reason: "a root that follows the pin can never see a promotion",
			atHead: func(t *testing.T, d string) {
				replace(t, d, "clusters/prod/root.yaml", "targetRevision: main", "targetRevision: HEAD~1")
			},
			want: []string{"clusters/prod/root.yaml: Application/argocd/root: spec.source: the root syncs clusters/prod at \"HEAD~1\"; it must follow main", "[release]"},
		},
		"ClaimInWrongEnvironment": {
			reason: "a prod claim in a dev folder lands in the dev cluster",
			atHead: func(t *testing.T, d string) {
				replace(t, d, "teams/marketing/dev/www.yaml", "environment: dev", "environment: prod")
			},
			want: []string{"teams/marketing/dev/www.yaml:2: StaticSite/marketing/www: spec.environment: \"prod\", but Application team-marketing syncs it to a cluster of dev (clusters/dev)", "[environment]"},
		},
		"TeamNamespaceNotFolder": {
			reason: "team.yaml cannot move a team into another namespace",
			atHead: func(t *testing.T, d string) {
				replace(t, d, "teams/marketing/team.yaml", "name: marketing\n", "name: marketing\nnamespace: crossplane-system\n")
			},
			want: []string{"teams/marketing/team.yaml: team marketing: namespace: \"crossplane-system\", but a team's namespace is its folder name \"marketing\"", "[team-namespace]"},
		},
		"KindNotInTeamYAML": {
			reason: "the team AppProject admits only the kinds team.yaml allows",
			atHead: func(t *testing.T, d string) {
				replace(t, d, "teams/marketing/dev/www.yaml", "kind: StaticSite", "kind: Network")
			},
			want: []string{"teams/marketing/dev/www.yaml:2: Network/marketing/www: kind: AppProject team-marketing admits only [StaticSite.platform.unsilo.dev], not Network.platform.unsilo.dev", "[argocd-project]", "the team may not claim Network"},
		},
		"EnvironmentNotInTeamYAML": {
			reason: "a folder of claims for an environment team.yaml does not list",
			atHead: func(t *testing.T, d string) {
				if err := os.MkdirAll(filepath.Join(d, "teams/example-team/prod"), 0o755); err != nil {
					t.Fatal(err)
				}
				b, _ := os.ReadFile(filepath.Join(d, "teams/example-team/dev/kustomization.yaml"))
				os.WriteFile(filepath.Join(d, "teams/example-team/prod/kustomization.yaml"), []byte(strings.ReplaceAll(string(b), "- network.yaml\n  - site.yaml\n  - portal.yaml", "[]")), 0o644)
			},
			want: []string{"teams/example-team/prod: team example-team: environments: claims for prod, but team.yaml lists only [dev]", "[team-environment]"},
		},
		"SecretNobodyProduces": {
			reason: "Grafana waits forever for a Secret nothing creates",
			atHead: func(t *testing.T, d string) {
				replace(t, d, "platform/secrets/kustomization.yaml", "  - grafana.yaml\n", "")
			},
			want: []string{"platform/observability/apps/kube-prometheus-stack.yaml: Application/argocd/platform-observability-stack: spec.source.helm.valuesObject.grafana.admin.existingSecret: reads Secret observability/grafana-admin, which nothing in dev produces", "[secret-ref]"},
		},
		"SecretKeyMismatch": {
			reason: "Alertmanager and alert-bridge must agree on the token's key",
			atHead: func(t *testing.T, d string) {
				replace(t, d, "platform/observability/alertmanager.conf.yaml", "alert-bridge-token/alertmanager-token", "alert-bridge-token/token")
			},
			want: []string{"reads key \"token\" of Secret observability/alert-bridge-token, but ExternalSecret/observability/alert-bridge-token produces only [admin-token alertmanager-token grafana-hmac-secret]", "[secret-ref]"},
		},
		"DeletionUnprotected": {
			reason: "XRs that Argo CD may delete, and an Application that cascades",
			atHead: func(t *testing.T, d string) {
				replace(t, d, "clusters/dev/infra/kustomization.yaml", "commonAnnotations:\n  argocd.argoproj.io/sync-options: Prune=false,Delete=false\n", "")
				replace(t, d, "platform/argocd/infra.yaml", "  name: platform-infra\n  namespace: argocd\n", "  name: platform-infra\n  namespace: argocd\n  finalizers: [resources-finalizer.argocd.argoproj.io]\n")
				replace(t, d, "platform/argocd/teams.yaml", "preserveResourcesOnDeletion: true", "preserveResourcesOnDeletion: false")
			},
			want: []string{
				"clusters/dev/infra/datalake.yaml:4: DataLake/platform/lake: metadata.annotations[argocd.argoproj.io/sync-options]: deleting an XR deletes the AWS resources it composed, and nothing stops Argo CD (Application platform-infra) from deleting it when it leaves git; add Prune=false,Delete=false [deletion-protection]",
				"Namespace/platform: metadata.annotations[argocd.argoproj.io/sync-options]: holds",
				"Application/argocd/platform-infra: metadata.finalizers: resources-finalizer.argocd.argoproj.io cascades",
				"ApplicationSet/argocd/teams: spec.syncPolicy.preserveResourcesOnDeletion",
			},
		},
		"WaveBeforeAPIs": {
			reason: "XRs synced before the XRDs that define them fail every sync",
			atHead: func(t *testing.T, d string) {
				replace(t, d, "platform/argocd/infra.yaml", "  name: platform-infra\n  namespace: argocd\n  labels:\n    platform.unsilo.dev/follows: release\n  annotations:\n    argocd.argoproj.io/sync-wave: \"-30\"", "  name: platform-infra\n  namespace: argocd\n  labels:\n    platform.unsilo.dev/follows: release\n  annotations:\n    argocd.argoproj.io/sync-wave: \"-45\"")
			},
			want: []string{"clusters/dev/infra/datalake.yaml:4: DataLake/platform/lake: metadata.annotations[argocd.argoproj.io/sync-wave]: root > release > platform-infra applies it at 0/0/-45/0, before root > release > platform-apis defines DataLake.platform.unsilo.dev at 0/0/-40/0", "[sync-wave-order]"},
		},
		"SettingsDisagree": {
			reason: "the settings name another account, and a claim hard-codes one",
			atHead: func(t *testing.T, d string) {
				replace(t, d, "clusters/dev/settings/settings.yaml", "lakeAlbBucket: unsilo-lake-alb-dev", "lakeAlbBucket: unsilo-lake-alb-prod")
				replace(t, d, "teams/example-team/dev/portal.yaml", "arn:aws:acm:ap-northeast-2:111122223333:", "arn:aws:acm:ap-northeast-2:123456789012:")
			},
			want: []string{
				"clusters/dev/settings/settings.yaml: ConfigMap/settings: data.lakeAlbBucket: \"unsilo-lake-alb-prod\", but DataLake/platform/lake composes \"unsilo-lake-alb-dev\"",
				"teams/example-team/dev/portal.yaml:2: WebPortal/example-team/shop: spec.https.certificateArn: arn:aws:acm:ap-northeast-2:123456789012:certificate/7d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6 names account 123456789012, but this environment is account 111122223333",
			},
		},
		"MutableImage": {
			reason: "a tag that can change under the same name",
			atHead: func(t *testing.T, d string) {
				edit(t, d, "platform/artifacts/artifacts.yaml", func(s string) string {
					i := strings.Index(s, "  ragApiTag: ")
					j := i + strings.Index(s[i:], "\n")
					return s[:i] + "  ragApiTag: latest" + s[j:]
				})
			},
			want: []string{"apps/rag-api/chart: Deployment/knowledge/rag-api: spec.template.spec.containers[0].image: ghcr.io/unsilo/rag-api:latest can change under the same name", "[image-ref]"},
		},
		"ManagementWithoutRole": {
			reason: "the management cluster's Crossplane assumes the role the settings name; without it nothing authenticates",
			atHead: func(t *testing.T, d string) {
				edit(t, d, "clusters/dev/settings/settings.yaml", func(s string) string {
					i := strings.Index(s, "  managementRoleArn: ")
					j := i + strings.Index(s[i:], "\n") + 1
					return s[:i] + s[j:]
				})
			},
			want: []string{"clusters/dev/release/release.yaml: Application/argocd/release: Argo CD cannot build root > release: kustomize build", "clusters/dev/management/apps", "[argocd-source]"},
		},
		"PinNotOnMain": {
			reason: "a release is a commit that merged; a branch's commit can vanish",
			env:    "prod",
			atHead: func(t *testing.T, d string) {
				git(t, d, "checkout", "-q", "-b", "side")
				write(t, d, "side.txt", "x")
				git(t, d, "add", "-A")
				git(t, d, "commit", "-q", "-m", "side")
				side := git(t, d, "rev-parse", "HEAD")
				git(t, d, "checkout", "-q", "main")
				edit(t, d, "clusters/prod/release/release.yaml", func(s string) string { return pinRE(s, side) })
			},
			want: []string{"clusters/prod/release/release.yaml: Application/argocd/release: spec.source.targetRevision: commit", "is not on main's history", "[release]"},
		},
		"BucketWithoutEnvironment": {
			reason: "an S3 name is global: dev's copy of a claim must not take prod's",
			full:   true,
			atHead: func(t *testing.T, d string) {
				replace(t, d, "teams/marketing/dev/www.yaml", "  bucketName: unsilo-www-dev\n", "")
			},
			want: []string{"teams/marketing/dev/www.yaml:2: StaticSite/marketing/www -> bucket: bucket name: S3 bucket \"marketing-www-site\" is a name unique across every AWS account and does not carry the environment dev", "[global-name]"},
		},
		"ReleaseRunsOtherCode": {
			reason: "at a pinned release the images must be that commit's own code",
			env:    "prod",
			full:   true,
			atRelease: func(t *testing.T, d string) {
				replace(t, d, "functions/main.go", "package main", "package main\n\n// changed after the artifacts were written")
			},
			want: []string{"platform/artifacts/artifacts.yaml@", "data.function: function-unsilo names", "but the code at the release builds", "[image-ref]"},
		},
		"GovernanceStale": {
			reason: "platform/teams must be regenerated after team.yaml changes",
			atHead: func(t *testing.T, d string) {
				replace(t, d, "teams/marketing/team.yaml", "group: marketing-web", "group: marketing-all")
			},
			want: []string{"platform/teams/dev/marketing.yaml: governance: not generated from the current team.yaml files; run `unsilo team sync`", "[team-governance]"},
		},
	}
	base := checker(t)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var atRel, atHead func(string)
			if tc.atRelease != nil {
				atRel = func(d string) { tc.atRelease(t, d) }
			}
			if tc.atHead != nil {
				atHead = func(d string) { tc.atHead(t, d) }
			}
			root, _ := fixture(t, atRel, atHead)
			env := tc.env
			if env == "" {
				env = "dev"
			}
			got := strings.Join(verifyTree(t, base, root, tc.full, env), "\n")
			if len(tc.want) == 0 && got != "" {
				t.Fatalf("%s: want no findings, got:\n%s", tc.reason, got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s: no finding containing %q in:\n%s", tc.reason, w, got)
				}
			}
		})
	}
}
