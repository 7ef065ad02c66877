package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/apps/rag-api/eval"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

func evalCmd() *cobra.Command {
	var corpus, queries, qrels, analyzer string
	var k1, b float64
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Measure retrieval on a BEIR-format set: nDCG@10, recall@10/100, MRR@10",
		Example: "  rag-api eval --corpus corpus.jsonl --queries queries.jsonl --qrels qrels/test.tsv\n" +
			"  rag-api eval ... --analyzer all   # compare every analyzer",
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
			fmt.Fprintf(out, "corpus %d docs, %d judged queries\n", len(set.Corpus), len(set.Qrels))
			fmt.Fprintf(out, "%-22s %8s %9s %10s %8s\n", "analyzer", "nDCG@10", "recall@10", "recall@100", "MRR@10")
			for _, name := range names {
				an, err := search.NewAnalyzer(name)
				if err != nil {
					return err
				}
				ix := search.NewIndex(an)
				if k1 > 0 {
					ix.SetParams(k1, b)
				}
				ix.Add(set.Corpus...)
				r, err := eval.Run(cmd.Context(), ix, set)
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
	for _, n := range []string{"corpus", "queries", "qrels"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

func printRow(w io.Writer, name string, r eval.Result) {
	fmt.Fprintf(w, "%-22s %8.4f %9.4f %10.4f %8.4f\n", name, r.NDCG10, r.Recall[10], r.Recall[100], r.MRR10)
}
