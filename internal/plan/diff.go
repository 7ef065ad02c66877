package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
)

// stateful kinds hold data: deleting or replacing one loses it.
var stateful = map[string]bool{"Instance/rds": true, "Bucket/s3": true, "Key/kms": true, "Cluster/eks": true, "DeliveryStream/firehose": true, "Index/kendra": true}

func isStateful(r Resource) bool {
	group, _, _ := strings.Cut(r.APIVersion, ".")
	return stateful[r.Kind+"/"+group]
}

// Change is what happens to one composed resource.
type Change struct {
	Name   string
	Kind   string
	Action string   // add, change, remove, replace, orphan
	Fields []string // changed forProvider paths
	Danger bool     // a stateful resource is removed or replaced
}

// XRDiff is the change of one XR between two trees.
type XRDiff struct {
	ID, Group, Status string // Status: added, removed, orphaned, changed
	// Unprotected: the change drops the XR's deletion protection.
	Unprotected bool
	Changes     []Change
	Findings    []string
	Error       string
}

// Diff compares two snapshots, XR by XR.
func Diff(base, head Snapshot) []XRDiff {
	b := index(base)
	h := index(head)
	var out []XRDiff
	for _, id := range unionKeys(b, h) {
		bx, inBase := b[id]
		hx, inHead := h[id]
		d := XRDiff{ID: id}
		switch {
		case !inBase:
			d.Status, d.Group, d.Findings, d.Error = "added", hx.Group, hx.Findings, hx.Error
			d.Changes = changes(nil, hx.Resources)
		case !inHead && bx.Protected:
			// Argo CD will not prune it: nothing is deleted, the XR and its
			// AWS resources stay until someone deletes the XR on purpose.
			d.Status, d.Group = "orphaned", bx.Group
			for _, c := range changes(bx.Resources, nil) {
				c.Action, c.Danger = "orphan", false
				d.Changes = append(d.Changes, c)
			}
		case !inHead:
			d.Status, d.Group = "removed", bx.Group
			d.Changes = changes(bx.Resources, nil)
		default:
			d.Status, d.Group, d.Findings, d.Error = "changed", hx.Group, hx.Findings, hx.Error
			d.Changes = changes(bx.Resources, hx.Resources)
			d.Unprotected = bx.Protected && !hx.Protected
			if len(d.Changes) == 0 && len(d.Findings) == 0 && d.Error == "" && !d.Unprotected {
				continue
			}
		}
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Group != out[j].Group {
			return out[i].Group < out[j].Group
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func changes(base, head map[string]Resource) []Change {
	var out []Change
	for _, name := range unionKeys(base, head) {
		br, inBase := base[name]
		hr, inHead := head[name]
		switch {
		case !inBase:
			out = append(out, Change{Name: name, Kind: hr.Kind, Action: "add"})
		case !inHead:
			out = append(out, Change{Name: name, Kind: br.Kind, Action: "remove", Danger: isStateful(br)})
		case br.Kind != hr.Kind || br.ExternalName != hr.ExternalName:
			out = append(out, Change{Name: name, Kind: hr.Kind, Action: "replace", Danger: isStateful(hr) || isStateful(br),
				Fields: []string{fmt.Sprintf("external name %q -> %q", br.ExternalName, hr.ExternalName)}})
		default:
			if f := fieldDiff("", br.ForProvider, hr.ForProvider); len(f) > 0 {
				out = append(out, Change{Name: name, Kind: hr.Kind, Action: "change", Fields: f})
			}
		}
	}
	return out
}

// fieldDiff lists the leaf paths that differ, with old and new values.
func fieldDiff(path string, a, b any) []string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		var out []string
		for _, k := range unionKeys(am, bm) {
			p := k
			if path != "" {
				p = path + "." + k
			}
			out = append(out, fieldDiff(p, am[k], bm[k])...)
		}
		return out
	}
	if reflect.DeepEqual(a, b) {
		return nil
	}
	return []string{fmt.Sprintf("%s: %s -> %s", path, short(a), short(b))}
}

func short(v any) string {
	if v == nil {
		return "(unset)"
	}
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return "`" + s + "`"
}

func index(s Snapshot) map[string]XRSnapshot {
	m := make(map[string]XRSnapshot, len(s.XRs))
	for _, x := range s.XRs {
		m[x.ID] = x
	}
	return m
}

func unionKeys[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	var out []string
	for k := range a {
		seen[k] = true
		out = append(out, k)
	}
	for k := range b {
		if !seen[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Markdown writes the diff as a pull-request comment: per group (team or
// example) and claim, the AWS resources added, changed and removed, with
// stateful replacements called out first.
func Markdown(w io.Writer, base string, diffs []XRDiff) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## unsilo plan against `%s`\n\n", base)
	if len(diffs) == 0 {
		b.WriteString("No AWS resources change.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	var danger, orphaned []string
	for _, d := range diffs {
		for _, c := range d.Changes {
			if c.Danger {
				danger = append(danger, fmt.Sprintf("- **%s** `%s` %s (%s): its data is lost", strings.ToUpper(c.Action), c.Name, c.Kind, d.ID))
			}
		}
		if d.Unprotected {
			danger = append(danger, fmt.Sprintf("- **UNPROTECT** %s: Argo CD may now delete it, and with it every AWS resource it composed, once it leaves git", d.ID))
		}
		if d.Status == "orphaned" {
			orphaned = append(orphaned, fmt.Sprintf("- %s (%d AWS resources)", d.ID, len(d.Changes)))
		}
	}
	if len(danger) > 0 {
		b.WriteString("> [!CAUTION]\n> This change deletes or replaces stateful resources:\n")
		for _, l := range danger {
			b.WriteString("> " + l + "\n")
		}
		b.WriteString("\n")
	}
	if len(orphaned) > 0 {
		b.WriteString("> [!NOTE]\n> These XRs leave git but are deletion-protected (Prune=false,Delete=false): Argo CD keeps them and nothing in AWS is deleted. A platform admin deletes one on purpose (`kubectl delete`) once its data is safe:\n")
		for _, l := range orphaned {
			b.WriteString("> " + l + "\n")
		}
		b.WriteString("\n")
	}
	group := ""
	for _, d := range diffs {
		if d.Group != group {
			group = d.Group
			fmt.Fprintf(&b, "### %s\n\n", group)
		}
		add, chg, rm := count(d.Changes)
		fmt.Fprintf(&b, "#### %s (%s): %d to add, %d to change, %d to remove\n\n", d.ID, d.Status, add, chg, rm)
		if d.Error != "" {
			fmt.Fprintf(&b, "**Cannot render:** %s\n\n", d.Error)
		}
		if len(d.Changes) > 0 {
			b.WriteString("| | resource | kind | details |\n|---|---|---|---|\n")
			for _, c := range d.Changes {
				sym := map[string]string{"add": "+", "change": "~", "remove": "-", "replace": "-/+", "orphan": "kept"}[c.Action]
				if c.Danger {
					sym = "⚠️ " + sym
				}
				fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", sym, c.Name, c.Kind, strings.ReplaceAll(strings.Join(c.Fields, "<br>"), "|", "\\|"))
			}
			b.WriteString("\n")
		}
		if len(d.Findings) > 0 {
			b.WriteString("Policy findings:\n")
			for _, f := range d.Findings {
				fmt.Fprintf(&b, "- %s\n", f)
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func count(cs []Change) (add, chg, rm int) {
	for _, c := range cs {
		switch c.Action {
		case "add":
			add++
		case "change":
			chg++
		case "remove":
			rm++
		case "replace":
			add++
			rm++
		}
	}
	return
}
