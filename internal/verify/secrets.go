package verify

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/argo"
	"github.com/unsilo/unsilo/internal/manifest"
)

// secretUse is one read of a Secret: its key ("" for the whole Secret).
type secretUse struct {
	ns, name, key string
	by            string // the object or value that reads it
	where         string
	field         string
}

// producer is what makes a Secret exist, and with which keys (nil: any).
type producer struct {
	by   string
	keys map[string]bool
}

// cnpgKeys are the keys of the <cluster>-app Secret CloudNativePG writes.
var cnpgKeys = []string{"username", "password", "host", "port", "dbname", "uri", "jdbc-uri", "pgpass", "fqdn-uri", "fqdn-jdbc-uri"}

// amSecretPath is how Alertmanager's config names a file of a Secret listed
// in alertmanagerSpec.secrets.
var amSecretPath = regexp.MustCompile(`/etc/alertmanager/secrets/([a-z0-9.-]+)/([A-Za-z0-9._-]+)`)

// checkSecrets reports every Secret (and key) something in the environment
// reads that nothing in the environment produces: a Secret object, an
// ExternalSecret's target, a generator, CloudNativePG's app Secret. A pod
// waiting for one blocks its wave, and every later one, forever.
func (c *Checker) checkSecrets(r *Report, e *environment) {
	produced := map[string]*producer{}
	add := func(ns, name, by string, keys []string) {
		p := &producer{by: by}
		if keys != nil {
			p.keys = map[string]bool{}
			for _, k := range keys {
				p.keys[k] = true
			}
		}
		produced[ns+"/"+name] = p
	}
	var uses []secretUse
	for _, s := range e.synced() {
		u, id := s.u, manifest.ID(s.u)
		where := e.where(s.app, u)
		switch {
		case u.GetAPIVersion() == "v1" && u.GetKind() == "Secret":
			var keys []string
			for _, f := range []string{"data", "stringData"} {
				m, _, _ := unstructured.NestedMap(u.Object, f)
				for k := range m {
					keys = append(keys, k)
				}
			}
			add(u.GetNamespace(), u.GetName(), id, keys)
			if strings.HasPrefix(u.GetName(), "alertmanager-") {
				uses = append(uses, alertmanagerFiles(u, where)...)
			}
		case u.GroupVersionKind().Group == "external-secrets.io" && u.GetKind() == "ExternalSecret":
			name, _, _ := unstructured.NestedString(u.Object, "spec", "target", "name")
			if name == "" {
				name = u.GetName()
			}
			var keys []string
			for _, d := range maps(u, "spec", "data") {
				if k, ok := d["secretKey"].(string); ok {
					keys = append(keys, k)
				}
			}
			tdata, _, _ := unstructured.NestedMap(u.Object, "spec", "target", "template", "data")
			for k := range tdata {
				keys = append(keys, k)
			}
			if df, _, _ := unstructured.NestedSlice(u.Object, "spec", "dataFrom"); len(df) > 0 {
				keys = nil // whatever the remote secret holds
			}
			add(u.GetNamespace(), name, id, keys)
		case u.GroupVersionKind().Group == "postgresql.cnpg.io" && u.GetKind() == "Cluster":
			add(u.GetNamespace(), u.GetName()+"-app", id+" (CloudNativePG)", cnpgKeys)
		}
		uses = append(uses, podSecrets(u, where)...)
	}
	for _, a := range e.apps {
		if !a.Repo {
			uses = append(uses, valuesSecrets(a, e.appWhere(a))...)
		}
	}
	seen := map[string]bool{}
	for _, use := range uses {
		p, ok := produced[use.ns+"/"+use.name]
		var reason string
		switch {
		case !ok:
			reason = fmt.Sprintf("reads Secret %s/%s, which nothing in %s produces (a Secret, an ExternalSecret from platform/secrets, CloudNativePG); it would wait for it forever", use.ns, use.name, e.name)
		case use.key != "" && p.keys != nil && !p.keys[use.key]:
			reason = fmt.Sprintf("reads key %q of Secret %s/%s, but %s produces only %v; use one key name on both sides", use.key, use.ns, use.name, p.by, sortedSet(p.keys))
		default:
			continue
		}
		line := use.where + use.by + use.field + reason
		if seen[line] {
			continue
		}
		seen[line] = true
		r.add(Finding{File: use.where, Object: use.by, Field: use.field, Rule: "secret-ref", Reason: reason})
	}
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// podSecrets lists the Secrets a workload's pod template reads.
func podSecrets(u *unstructured.Unstructured, where string) []secretUse {
	var spec map[string]any
	switch u.GetKind() {
	case "Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet":
		spec, _, _ = unstructured.NestedMap(u.Object, "spec", "template", "spec")
	case "CronJob":
		spec, _, _ = unstructured.NestedMap(u.Object, "spec", "jobTemplate", "spec", "template", "spec")
	case "Pod":
		spec, _, _ = unstructured.NestedMap(u.Object, "spec")
	}
	if spec == nil {
		return nil
	}
	ns, id := u.GetNamespace(), manifest.ID(u)
	var out []secretUse
	for _, list := range []string{"initContainers", "containers"} {
		cs, _ := spec[list].([]any)
		for i, c := range cs {
			cm, _ := c.(map[string]any)
			envs, _ := cm["env"].([]any)
			for j, ev := range envs {
				ref, _, _ := unstructured.NestedMap(ev.(map[string]any), "valueFrom", "secretKeyRef")
				if name, _ := ref["name"].(string); name != "" {
					if opt, _ := ref["optional"].(bool); !opt {
						key, _ := ref["key"].(string)
						out = append(out, secretUse{ns, name, key, id, where, fmt.Sprintf("spec.template.spec.%s[%d].env[%d]", list, i, j)})
					}
				}
			}
			froms, _ := cm["envFrom"].([]any)
			for j, ef := range froms {
				ref, _, _ := unstructured.NestedMap(ef.(map[string]any), "secretRef")
				if name, _ := ref["name"].(string); name != "" {
					if opt, _ := ref["optional"].(bool); !opt {
						out = append(out, secretUse{ns, name, "", id, where, fmt.Sprintf("spec.template.spec.%s[%d].envFrom[%d]", list, i, j)})
					}
				}
			}
		}
	}
	vols, _ := spec["volumes"].([]any)
	for i, v := range vols {
		sec, _, _ := unstructured.NestedMap(v.(map[string]any), "secret")
		if name, _ := sec["secretName"].(string); name != "" {
			if opt, _ := sec["optional"].(bool); !opt {
				out = append(out, secretUse{ns, name, "", id, where, fmt.Sprintf("spec.template.spec.volumes[%d]", i)})
			}
		}
	}
	return out
}

// valuesSecrets lists the Secrets a remote chart's values name: every
// secretKeyRef, every existingSecret, Alertmanager's mounted secrets.
func valuesSecrets(a *argo.App, where string) []secretUse {
	vals, _, _ := unstructured.NestedMap(a.Object.Object, "spec", "source", "helm", "valuesObject")
	ns := a.Destination()
	id := manifest.ID(a.Object)
	var out []secretUse
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["secretKeyRef"].(map[string]any); ok {
				if name, _ := ref["name"].(string); name != "" {
					key, _ := ref["key"].(string)
					out = append(out, secretUse{ns, name, key, id, where, "spec.source.helm.valuesObject" + path + ".secretKeyRef"})
				}
			}
			if name, ok := x["existingSecret"].(string); ok && name != "" {
				out = append(out, secretUse{ns, name, "", id, where, "spec.source.helm.valuesObject" + path + ".existingSecret"})
			}
			for k, e := range x {
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	walk("", vals)
	secrets, _, _ := unstructured.NestedStringSlice(vals, "alertmanager", "alertmanagerSpec", "secrets")
	for _, s := range secrets {
		out = append(out, secretUse{ns, s, "", id, where, "spec.source.helm.valuesObject.alertmanager.alertmanagerSpec.secrets"})
	}
	return out
}

// alertmanagerFiles lists the Secret keys an Alertmanager config (packed
// into a Secret) reads from /etc/alertmanager/secrets.
func alertmanagerFiles(u *unstructured.Unstructured, where string) []secretUse {
	data, _, _ := unstructured.NestedStringMap(u.Object, "data")
	var out []secretUse
	for k, v := range data {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			continue
		}
		for _, m := range amSecretPath.FindAllStringSubmatch(string(b), -1) {
			out = append(out, secretUse{u.GetNamespace(), m[1], m[2], manifest.ID(u), where, "data." + k + " (" + m[0] + ")"})
		}
	}
	return out
}
