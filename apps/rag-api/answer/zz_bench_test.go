package answer

import (
	"testing"

	"github.com/unsilo/unsilo/apps/rag-api/internal/synth"
)

func BenchmarkIsInstruction(b *testing.B) {
	cs, _ := synth.Corpus(5)
	for i := 0; i < b.N; i++ {
		IsInstruction(cs[i%5].Text)
	}
}
