// Package team reads a team's folder (teams/<team>/team.yaml and one folder
// of claims per environment, teams/<team>/<env>/), enforces what team.yaml
// allows in each environment, and generates the governance the platform
// keeps for the team in each environment: namespace, Argo CD AppProject and
// read-only RBAC.
package team

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"sigs.k8s.io/yaml"
)

// File is the name of a team's definition in its folder.
const File = "team.yaml"

// Team is teams/<team>/team.yaml.
type Team struct {
	Name string `json:"name"`
	// Namespace is the folder name, always; the field is accepted only so
	// that an old team.yaml naming another namespace is reported (verify's
	// team-namespace finding) instead of being silently ignored.
	Namespace string   `json:"namespace,omitempty"`
	Owners    []string `json:"owners"`
	// Group is the identity provider group that may read the team's claims
	// in its namespace; changes go through git.
	Group string   `json:"group"`
	APIs  []string `json:"apis"`
	// Environments the team deploys to, each with its quotas. A claim
	// folder teams/<team>/<env>/ for an environment not listed here is
	// synced nowhere (no AppProject admits it) and is a verify finding.
	Environments map[string]Environment `json:"environments"`
	// Dir is the team's folder; set by Load.
	Dir string `json:"-"`
}

// Environment is what a team may claim in one environment.
type Environment struct {
	Quotas Quotas `json:"quotas"`
}

// Quotas bound what a team may claim without the platform team's review.
type Quotas struct {
	MaxClaims     int      `json:"maxClaims"`
	InstanceTypes []string `json:"instanceTypes,omitempty"`
	DBClasses     []string `json:"dbClasses,omitempty"`
	MaxASGSize    int      `json:"maxAsgSize,omitempty"`
	MaxNodes      int      `json:"maxNodes,omitempty"`
}

var (
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	email    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[a-z]{2,}$`)
)

// ErrNoTeamFile means a folder under teams/ has no team.yaml.
var ErrNoTeamFile = errors.New("no " + File)

// Load reads and validates dir/team.yaml. Unknown fields are errors, so a
// misspelt quota is never silently unlimited.
func Load(dir string) (*Team, error) {
	path := filepath.Join(dir, File)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w: every team folder needs one (unsilo team new NAME scaffolds it)", dir, ErrNoTeamFile)
	}
	if err != nil {
		return nil, err
	}
	t := &Team{}
	if err := yaml.UnmarshalStrict(b, t); err != nil {
		return nil, fmt.Errorf("%s: %w", path, hint(err))
	}
	t.Dir = dir
	if err := t.validate(filepath.Base(dir)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// hint explains the one field that moved, so an old team.yaml gets a fix.
func hint(err error) error {
	if bytes.Contains([]byte(err.Error()), []byte(`unknown field "quotas"`)) {
		return fmt.Errorf("%w: quotas are per environment now: environments: {dev: {quotas: {...}}}", err)
	}
	return err
}

func (t *Team) validate(folder string) error {
	switch {
	case t.Name != folder:
		return fmt.Errorf("name: %q must equal the folder name %q", t.Name, folder)
	case !dnsLabel.MatchString(t.Name):
		return fmt.Errorf("name: %q must be a DNS label (lowercase letters, digits, hyphens): it is the team's namespace", t.Name)
	case len(t.Owners) == 0:
		return errors.New("owners: at least one owner is required")
	case t.Group == "":
		return errors.New("group: the identity provider group that reads the team's claims is required")
	case len(t.APIs) == 0:
		return errors.New("apis: list the platform APIs the team may claim (e.g. [Network, StaticSite])")
	case len(t.Environments) == 0:
		return errors.New("environments: list the environments the team deploys to, each with its quotas (e.g. dev: {quotas: {maxClaims: 3}})")
	}
	for i, o := range t.Owners {
		if !email.MatchString(o) {
			return fmt.Errorf("owners[%d]: %q is not an email address", i, o)
		}
	}
	for _, env := range t.EnvironmentNames() {
		if !dnsLabel.MatchString(env) {
			return fmt.Errorf("environments.%s: not an environment name (a folder under clusters/)", env)
		}
		if t.Environments[env].Quotas.MaxClaims < 1 {
			return fmt.Errorf("environments.%s.quotas.maxClaims: must be at least 1", env)
		}
	}
	return nil
}

// EnvironmentNames lists the team's environments in order.
func (t *Team) EnvironmentNames() []string {
	out := make([]string, 0, len(t.Environments))
	for e := range t.Environments {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// In reports whether the team deploys to env.
func (t *Team) In(env string) bool { _, ok := t.Environments[env]; return ok }

// Allows reports whether the team may claim kind.
func (t *Team) Allows(kind string) bool {
	for _, a := range t.APIs {
		if a == kind {
			return true
		}
	}
	return false
}

// Scaffold is the team.yaml `unsilo team new` writes.
func Scaffold(name string) []byte {
	t := Team{
		Name: name, Owners: []string{"owner@example.com"}, Group: name + "-engineers",
		APIs:         []string{"Network", "StaticSite", "WebPortal"},
		Environments: map[string]Environment{"dev": {Quotas: Quotas{MaxClaims: 5, InstanceTypes: []string{"t3.small", "t3.medium"}, DBClasses: []string{"db.t4g.small"}, MaxASGSize: 4}}},
	}
	b, _ := yaml.Marshal(t) // a plain struct always marshals
	return append([]byte("# Who owns this team's claims, what it may claim, and where (one folder of\n# claims per environment: teams/"+name+"/<env>/).\n"), bytes.TrimSpace(b)...)
}
