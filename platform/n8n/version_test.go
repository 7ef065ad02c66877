package n8n

import (
	"bytes"
	"errors"
	"io"
	"os"
	"regexp"
	"testing"

	"gopkg.in/yaml.v3"
)

// The n8n the cluster runs must be the n8n the tests run (the alert-bridge
// e2e and the delivery test install N8N_VERSION): the workflow's nodes and
// the CLI deliver-workflows.sh calls change between n8n releases.
func TestChartRunsTheTestedN8n(t *testing.T) {
	mk, err := os.ReadFile("../../apps/alert-bridge/app.mk")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^N8N_VERSION \?= (\S+)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("apps/alert-bridge/app.mk: no `N8N_VERSION ?= <version>` line")
	}
	tested := string(m[1])

	tag, err := chartImageTag("apps/n8n.yaml", "platform-n8n")
	if err != nil {
		t.Fatal(err)
	}
	if tag != tested {
		t.Errorf("apps/n8n.yaml: platform-n8n runs n8n image tag %q, the tests run n8n %s (apps/alert-bridge/app.mk N8N_VERSION): make them one version", tag, tested)
	}
}

// chartImageTag returns spec.source.helm.valuesObject.image.tag of the
// Application named app in a multi-document file.
func chartImageTag(path, app string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc struct {
			Kind     string
			Metadata struct{ Name string }
			Spec     struct {
				Source struct {
					Helm struct {
						ValuesObject struct {
							Image struct{ Tag string }
						} `yaml:"valuesObject"`
					}
				}
			}
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return "", errors.New(path + ": no Application " + app)
		}
		if err != nil {
			return "", err
		}
		if doc.Kind == "Application" && doc.Metadata.Name == app {
			if doc.Spec.Source.Helm.ValuesObject.Image.Tag == "" {
				return "", errors.New(path + ": Application " + app + " sets no spec.source.helm.valuesObject.image.tag (the chart's default n8n is untested)")
			}
			return doc.Spec.Source.Helm.ValuesObject.Image.Tag, nil
		}
	}
}
