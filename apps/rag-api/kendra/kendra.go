// Package kendra is the AWS retrieval backend: Kendra Retrieve (passages up
// to ~200 tokens), plus Query in parallel for Korean questions, where
// Query's FAQ answers and document excerpts often find what Retrieve's
// semantic ranking misses. The user's id and groups go to Kendra as
// UserContext, so Kendra itself drops passages the user could not open:
// groups match group ACLs (S3 metadata, Google Workspace groups), the user id
// matches per-user ACLs (a Drive file shared with one person, a Gmail owner).
package kendra

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kendra"
	"github.com/aws/aws-sdk-go-v2/service/kendra/types"
	"golang.org/x/sync/errgroup"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/apps/rag-api/lang"
	"github.com/unsilo/unsilo/apps/rag-api/search"
)

// API is the part of the Kendra client the retriever uses.
type API interface {
	Retrieve(ctx context.Context, in *kendra.RetrieveInput, opts ...func(*kendra.Options)) (*kendra.RetrieveOutput, error)
	Query(ctx context.Context, in *kendra.QueryInput, opts ...func(*kendra.Options)) (*kendra.QueryOutput, error)
}

// Retriever implements server.Retriever over a Kendra index.
type Retriever struct {
	Client  API
	IndexID string
	// QueryForKorean also calls Query for Korean questions and merges results.
	QueryForKorean bool
}

var scoreRank = map[types.ScoreConfidence]float64{
	types.ScoreConfidenceVeryHigh: 4, types.ScoreConfidenceHigh: 3, types.ScoreConfidenceMedium: 2,
	types.ScoreConfidenceLow: 1, types.ScoreConfidenceNotAvailable: 0.5,
}

// Search implements server.Retriever.
func (r *Retriever) Search(ctx context.Context, q search.Query) ([]search.Hit, error) {
	uc := &types.UserContext{Groups: q.Groups}
	if q.UserID != "" {
		uc.UserId = aws.String(q.UserID)
	}
	size := int32(min(max(q.TopK, 1), 100))
	var retrieved, queried []search.Hit
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		out, err := r.Client.Retrieve(gctx, &kendra.RetrieveInput{IndexId: aws.String(r.IndexID), QueryText: aws.String(q.Text), PageSize: aws.Int32(size), UserContext: uc})
		if err != nil {
			return fmt.Errorf("kendra Retrieve: %w", err)
		}
		for _, it := range out.ResultItems {
			retrieved = append(retrieved, hit(aws.ToString(it.Id), aws.ToString(it.DocumentTitle), aws.ToString(it.Content), aws.ToString(it.DocumentURI), it.DocumentAttributes, it.ScoreAttributes))
		}
		return nil
	})
	if r.QueryForKorean && lang.IsKorean(q.Text) {
		g.Go(func() error {
			out, err := r.Client.Query(gctx, &kendra.QueryInput{IndexId: aws.String(r.IndexID), QueryText: aws.String(q.Text), PageSize: aws.Int32(size), UserContext: uc})
			if err != nil {
				return fmt.Errorf("kendra Query: %w", err)
			}
			for _, it := range out.ResultItems {
				var title, text string
				if it.DocumentTitle != nil {
					title = aws.ToString(it.DocumentTitle.Text)
				}
				if it.DocumentExcerpt != nil {
					text = aws.ToString(it.DocumentExcerpt.Text)
				}
				if text == "" {
					continue
				}
				queried = append(queried, hit(aws.ToString(it.Id), title, text, aws.ToString(it.DocumentURI), it.DocumentAttributes, it.ScoreAttributes))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return merge(retrieved, queried, q), nil
}

// merge interleaves the two ranked lists, dropping duplicate passages and
// applying the request's filters.
func merge(a, b []search.Hit, q search.Query) []search.Hit {
	seen := map[string]bool{}
	var out []search.Hit
	add := func(h search.Hit) {
		key := h.Chunk.Source + "\x00" + strings.TrimSpace(h.Chunk.Text)
		if seen[key] || (q.Filter != nil && !q.Filter(h.Chunk.Source, h.Chunk.Title)) {
			return
		}
		seen[key] = true
		out = append(out, h)
	}
	for i := 0; i < max(len(a), len(b)); i++ {
		if i < len(a) {
			add(a[i])
		}
		if i < len(b) {
			add(b[i])
		}
	}
	if q.TopK > 0 && len(out) > q.TopK {
		out = out[:q.TopK]
	}
	return out
}

func hit(id, title, text, uri string, attrs []types.DocumentAttribute, sc *types.ScoreAttributes) search.Hit {
	// Kendra filtered by the caller's identity already: what it returns is
	// readable by this caller.
	c := &doc.Chunk{ID: id, Title: title, Text: text, Source: uri, Public: true}
	for _, a := range attrs {
		if aws.ToString(a.Key) == "_excerpt_page_number" && a.Value != nil && a.Value.LongValue != nil {
			c.Page = int(*a.Value.LongValue)
		}
	}
	score := 0.0
	if sc != nil {
		score = scoreRank[sc.ScoreConfidence]
	}
	return search.Hit{Chunk: c, Score: score}
}
