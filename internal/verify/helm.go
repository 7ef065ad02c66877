package verify

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/internal/argo"
)

// HelmSource is what an Argo CD Application says about a chart in this repo.
type HelmSource = argo.HelmSource

// RenderChart renders a chart as Argo CD does (helm template).
func RenderChart(h HelmSource) ([]*unstructured.Unstructured, error) { return argo.RenderChart(h) }
