// Package team reads a team's folder (teams/<team>/team.yaml and its
// claims), enforces what team.yaml allows, and generates the governance
// the platform keeps for the team: namespace, Argo CD AppProject and RBAC.
package team

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"sigs.k8s.io/yaml"
)

// File is the name of a team's definition in its folder.
const File = "team.yaml"

// Team is teams/<team>/team.yaml.
type Team struct {
	Name      string   `json:"name"`
	Namespace string   `json:"namespace"`
	Owners    []string `json:"owners"`
	// Group is the identity provider group given edit rights on the
	// team's claims in its namespace.
	Group  string   `json:"group"`
	APIs   []string `json:"apis"`
	Quotas Quotas   `json:"quotas"`
	// Dir is the team's folder; set by Load.
	Dir string `json:"-"`
}

// Quotas bound what a team may claim without the platform team's review.
type Quotas struct {
	MaxClaims     int      `json:"maxClaims"`
	InstanceTypes []string `json:"instanceTypes"`
	DBClasses     []string `json:"dbClasses"`
	MaxASGSize    int      `json:"maxAsgSize"`
	MaxNodes      int      `json:"maxNodes"`
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
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.Dir = dir
	if err := t.validate(filepath.Base(dir)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func (t *Team) validate(folder string) error {
	switch {
	case t.Name != folder:
		return fmt.Errorf("name: %q must equal the folder name %q", t.Name, folder)
	case !dnsLabel.MatchString(t.Name):
		return fmt.Errorf("name: %q must be a DNS label (lowercase letters, digits, hyphens)", t.Name)
	case !dnsLabel.MatchString(t.Namespace):
		return fmt.Errorf("namespace: %q must be a DNS label", t.Namespace)
	case len(t.Owners) == 0:
		return errors.New("owners: at least one owner is required")
	case t.Group == "":
		return errors.New("group: the identity provider group that edits the team's claims is required")
	case len(t.APIs) == 0:
		return errors.New("apis: list the platform APIs the team may claim (e.g. [Network, StaticSite])")
	case t.Quotas.MaxClaims < 1:
		return errors.New("quotas.maxClaims: must be at least 1")
	}
	for i, o := range t.Owners {
		if !email.MatchString(o) {
			return fmt.Errorf("owners[%d]: %q is not an email address", i, o)
		}
	}
	return nil
}

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
		Name: name, Namespace: name, Owners: []string{"owner@example.com"}, Group: name + "-admins",
		APIs:   []string{"Network", "StaticSite", "WebPortal"},
		Quotas: Quotas{MaxClaims: 5, InstanceTypes: []string{"t3.small", "t3.medium"}, DBClasses: []string{"db.t4g.small"}, MaxASGSize: 4},
	}
	b, _ := yaml.Marshal(t) // a plain struct always marshals
	return append([]byte("# Who owns this team's claims and what it may claim without review.\n"), bytes.TrimSpace(b)...)
}
