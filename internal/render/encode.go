package render

import (
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Encode writes the output as a YAML stream in crossplane render's order:
// the XR, then composed resources sorted by composition resource name.
func Encode(w io.Writer, out *Output) error {
	docs := append([]unstructured.Unstructured{*out.XR}, out.Composed...)
	for i := range docs {
		b, err := yaml.Marshal(docs[i].Object)
		if err != nil {
			return fmt.Errorf("cannot encode %s %q: %w", docs[i].GetKind(), docs[i].GetName(), err)
		}
		if _, err := fmt.Fprintf(w, "---\n%s", b); err != nil {
			return err
		}
	}
	return nil
}
