package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/apps/rag-api/eval"
	"github.com/unsilo/unsilo/apps/rag-api/index"
	"github.com/unsilo/unsilo/apps/rag-api/ingest"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

func evalCmd() *cobra.Command {
	var corpus, queries, qrels, analyzer string
	var k1, b float64
	var titleWeight int
	var viaIngest, prf bool
	var fb search.PRF
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Measure retrieval on a BEIR-format set: nDCG@10, recall@10/100, MRR@10",
		Example: "  rag-api eval --corpus corpus.jsonl --queries queries.jsonl --qrels qrels/test.tsv\n" +
			"  rag-api eval ... --analyzer all   # compare every analyzer\n" +
			"  rag-api eval ... --via-ingest     # the serving path: documents as files, ingested and chunked",
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := eval.Load(corpus, queries, qrels)
			if err != nil {
				return err
			}
			names := []string{analyzer}
			if analyzer == "all" {
				names = search.AnalyzerNames()
			}
			out := cmd.OutOrStdout()
			mode := "in-memory index, one passage per document"
			if viaIngest {
				mode = "serving path: Markdown files -> ingest -> chunks -> persisted index"
			}
			fmt.Fprintf(out, "corpus %d docs, %d judged queries; %s; title weight %d\n", len(set.Corpus), len(set.Qrels), mode, titleWeight)
			fmt.Fprintf(out, "%-22s %8s %9s %10s %8s\n", "analyzer", "nDCG@10", "recall@10", "recall@100", "MRR@10")
			for _, name := range names {
				an, err := search.NewAnalyzer(name)
				if err != nil {
					return err
				}
				var r eval.Result
				if viaIngest {
					var p *search.PRF
					if prf {
						p = &fb
					}
					r, err = evalViaIngest(cmd.Context(), set, an, titleWeight, k1, b, p)
				} else {
					var ix *search.Index
					ix, err = search.NewMemIndex(an, titleWeight, set.Corpus)
					if err == nil {
						if k1 > 0 {
							ix.SetParams(k1, b)
						}
						var s eval.Searcher = ix
						if prf {
							s = prfSearcher{ix, fb}
						}
						r, err = eval.Run(cmd.Context(), s, set)
					}
				}
				if err != nil {
					return err
				}
				printRow(out, name, r)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&corpus, "corpus", "", "BEIR corpus.jsonl")
	f.StringVar(&queries, "queries", "", "BEIR queries.jsonl")
	f.StringVar(&qrels, "qrels", "", "qrels TSV (query-id, corpus-id, score)")
	f.StringVar(&analyzer, "analyzer", search.DefaultAnalyzer, "analyzer ("+strings.Join(search.AnalyzerNames(), ", ")+") or all")
	f.Float64Var(&k1, "k1", 0, "BM25 k1 (0: default)")
	f.Float64Var(&b, "b", 0.75, "BM25 b (with --k1)")
	f.IntVar(&titleWeight, "title-weight", search.DefaultTitleWeight, "how many times title terms count")
	f.BoolVar(&prf, "prf", false, "RM3 pseudo-relevance feedback")
	f.IntVar(&fb.Docs, "prf-docs", 10, "feedback passages (--prf)")
	f.IntVar(&fb.Terms, "prf-terms", 20, "expansion terms (--prf)")
	f.Float64Var(&fb.Weight, "prf-weight", 0.6, "weight of the original query (--prf)")
	f.BoolVar(&viaIngest, "via-ingest", false, "write each document as a Markdown file and evaluate what ingest and chunking make of it")
	for _, n := range []string{"corpus", "queries", "qrels"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

// evalViaIngest runs the set through the path a deployment uses: one
// Markdown file per document (title in front matter), ingested into a
// persisted index, reopened, searched; a document ranks at its best chunk.
func evalViaIngest(ctx context.Context, set *eval.Set, an search.Analyzer, titleWeight int, k1, b float64, prf *search.PRF) (_ eval.Result, err error) {
	dir, err := os.MkdirTemp("", "rag-eval-")
	if err != nil {
		return eval.Result{}, err
	}
	defer os.RemoveAll(dir)
	docs := filepath.Join(dir, "docs")
	if err := os.Mkdir(docs, 0o755); err != nil {
		return eval.Result{}, err
	}
	for _, c := range set.Corpus {
		title := strings.ReplaceAll(c.Title, `"`, `'`)
		body := fmt.Sprintf("---\ntitle: \"%s\"\n---\n%s\n", strings.ReplaceAll(title, `\`, ``), c.Text)
		if err := os.WriteFile(filepath.Join(docs, safeName(c.ID)+".md"), []byte(body), 0o644); err != nil {
			return eval.Result{}, err
		}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dbPath := filepath.Join(dir, "ix.db")
	ix, err := index.Open(dbPath, an, index.Options{TitleWeight: titleWeight, Log: quiet})
	if err != nil {
		return eval.Result{}, err
	}
	start := time.Now()
	rep, err := (&ingest.Ingester{Index: ix, Log: quiet}).Path(ctx, docs)
	if err == nil {
		err = ix.Compact()
	}
	if err := errors.Join(err, ix.Close()); err != nil {
		return eval.Result{}, err
	}
	if len(rep.Skipped) > 0 {
		return eval.Result{}, fmt.Errorf("%d documents not indexed, first: %s: %s", len(rep.Skipped), rep.Skipped[0].Source, rep.Skipped[0].Reason)
	}
	fmt.Fprintf(os.Stderr, "ingested %d files into %d chunks in %s\n", rep.Files, rep.Chunks, time.Since(start).Round(time.Millisecond))
	ix, err = index.Open(dbPath, an, index.Options{ReadOnly: true, TitleWeight: titleWeight, Log: quiet})
	if err != nil {
		return eval.Result{}, err
	}
	defer func() { err = errors.Join(err, ix.Close()) }()
	byName := map[string]string{}
	for _, c := range set.Corpus {
		byName[safeName(c.ID)] = c.ID
	}
	s := searcher{ix: ix, k1: k1, b: b, prf: prf}
	return eval.RunMapped(ctx, s, set, 200, func(c *doc.Chunk) string {
		return byName[strings.TrimSuffix(path.Base(c.Source), ".md")]
	})
}

type searcher struct {
	ix    *index.Index
	k1, b float64
	prf   *search.PRF
}

func (s searcher) Search(ctx context.Context, q search.Query) ([]search.Hit, error) {
	if s.k1 > 0 {
		s.ix.SetParams(s.k1, s.b)
	}
	if s.prf != nil {
		return s.ix.SearchPRF(ctx, q, *s.prf)
	}
	return s.ix.Search(ctx, q)
}

type prfSearcher struct {
	ix *search.Index
	p  search.PRF
}

func (p prfSearcher) Search(ctx context.Context, q search.Query) ([]search.Hit, error) {
	return p.ix.SearchPRF(ctx, q, p.p)
}

// safeName keeps corpus ids usable as file names.
func safeName(id string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == '.' {
			return '_'
		}
		return r
	}, id)
}

func printRow(w io.Writer, name string, r eval.Result) {
	fmt.Fprintf(w, "%-22s %8.4f %9.4f %10.4f %8.4f\n", name, r.NDCG10, r.Recall[10], r.Recall[100], r.MRR10)
}
