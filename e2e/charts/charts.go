// Package charts serves Helm chart repositories on the e2e network: charts
// that live in remote repositories cannot be fetched offline, so each is a
// stand-in *named and versioned as pinned* (the Application's chart and
// targetRevision), holding what the e2e needs of it (e.g. the CRDs a later
// wave uses) and a ConfigMap that says it is a stand-in.
package charts

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Chart is one stand-in chart.
type Chart struct {
	Name, Version string
	// Files are extra chart files by path inside the chart (templates/x.yaml,
	// crds/y.yaml).
	Files map[string][]byte
}

// Repo is a chart repository at one base URL (e.g.
// https://charts.crossplane.io/stable): index.yaml and the .tgz files.
type Repo struct {
	base  string
	index []byte
	tgz   map[string][]byte
}

// NewRepo packages the charts for the repository at base.
func NewRepo(base string, charts ...Chart) (*Repo, error) {
	r := &Repo{base: strings.TrimSuffix(base, "/"), tgz: map[string][]byte{}}
	entries := map[string][]map[string]any{}
	for _, c := range charts {
		b, err := pack(c)
		if err != nil {
			return nil, err
		}
		file := fmt.Sprintf("%s-%s.tgz", c.Name, c.Version)
		r.tgz[file] = b
		sum := sha256.Sum256(b)
		entries[c.Name] = append(entries[c.Name], map[string]any{
			"apiVersion": "v2", "name": c.Name, "version": c.Version, "created": time.Now().UTC().Format(time.RFC3339),
			"description": "e2e stand-in for " + c.Name + " " + c.Version,
			"digest":      hex.EncodeToString(sum[:]), "urls": []string{r.base + "/" + file},
		})
	}
	idx, err := yaml.Marshal(map[string]any{"apiVersion": "v1", "entries": entries, "generated": time.Now().UTC().Format(time.RFC3339)})
	if err != nil {
		return nil, err
	}
	r.index = idx
	return r, nil
}

// Prefix is the URL path the repository lives under (/stable).
func (r *Repo) Prefix() string {
	_, rest, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(r.base, "https://"), "http://"), "/")
	return "/" + rest
}

// ServeHTTP answers index.yaml and the chart archives.
func (r *Repo) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	p := strings.TrimPrefix(req.URL.Path, strings.TrimSuffix(r.Prefix(), "/"))
	switch f := path.Base(p); {
	case p == "/index.yaml":
		w.Header().Set("Content-Type", "application/x-yaml")
		w.Write(r.index)
	case r.tgz[f] != nil && path.Dir(p) == "/":
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(r.tgz[f])
	default:
		http.NotFound(w, req)
	}
}

func pack(c Chart) ([]byte, error) {
	chartYAML := fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\ndescription: e2e stand-in for %s %s (the real chart is not reachable offline)\n", c.Name, c.Version, c.Name, c.Version)
	files := map[string][]byte{
		"Chart.yaml": []byte(chartYAML),
		"templates/e2e-stand-in.yaml": []byte(fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s-e2e-stand-in\ndata:\n  chart: %s\n  version: %q\n  note: the unsilo e2e serves this stand-in; the real chart is not reachable offline\n",
			c.Name, c.Name, c.Version)),
	}
	for k, v := range c.Files {
		files[k] = v
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, b := range files {
		if err := tw.WriteHeader(&tar.Header{Name: c.Name + "/" + name, Mode: 0o644, Size: int64(len(b)), ModTime: time.Now()}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(b); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
