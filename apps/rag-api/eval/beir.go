// Package eval measures retrieval quality on BEIR-format sets.
package eval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
)

// Set is a loaded BEIR collection.
type Set struct {
	Corpus  []*doc.Chunk
	Queries map[string]string         // query id -> text
	Qrels   map[string]map[string]int // query id -> doc id -> graded relevance
}

type corpusLine struct {
	ID    string `json:"_id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

type queryLine struct {
	ID   string `json:"_id"`
	Text string `json:"text"`
}

// Load reads corpus.jsonl, queries.jsonl and a qrels TSV.
func Load(corpusPath, queriesPath, qrelsPath string) (*Set, error) {
	s := &Set{Queries: map[string]string{}, Qrels: map[string]map[string]int{}}
	err := eachJSONLine(corpusPath, func(line int, b []byte) error {
		var c corpusLine
		if err := json.Unmarshal(b, &c); err != nil {
			return err
		}
		if c.ID == "" {
			return fmt.Errorf("missing _id")
		}
		s.Corpus = append(s.Corpus, &doc.Chunk{ID: c.ID, Source: c.ID, Title: c.Title, Text: c.Text, Public: true})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachJSONLine(queriesPath, func(line int, b []byte) error {
		var q queryLine
		if err := json.Unmarshal(b, &q); err != nil {
			return err
		}
		if q.ID == "" {
			return fmt.Errorf("missing _id")
		}
		s.Queries[q.ID] = q.Text
		return nil
	})
	if err != nil {
		return nil, err
	}
	f, err := openRead(qrelsPath)
	if err != nil {
		return nil, fmt.Errorf("qrels: %w", err)
	}
	defer f.Close()
	if err := ParseQrels(f, s.Qrels); err != nil {
		return nil, fmt.Errorf("qrels %s: %w", qrelsPath, err)
	}
	return s, nil
}

// ParseQrels reads BEIR's "query-id<TAB>corpus-id<TAB>score" lines (header optional).
func ParseQrels(r io.Reader, into map[string]map[string]int) error {
	sc := bufio.NewScanner(r)
	ln := 0
	for sc.Scan() {
		ln++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) == 4 { // TREC style: qid 0 docid rel
			f = []string{f[0], f[2], f[3]}
		}
		if len(f) != 3 {
			return fmt.Errorf("line %d: want 3 tab-separated fields (query-id, corpus-id, score), got %d", ln, len(f))
		}
		score, err := strconv.Atoi(f[2])
		if err != nil {
			if ln == 1 {
				continue // header
			}
			return fmt.Errorf("line %d: score %q is not an integer", ln, f[2])
		}
		if into[f[0]] == nil {
			into[f[0]] = map[string]int{}
		}
		into[f[0]][f[1]] = score
	}
	return sc.Err()
}

func eachJSONLine(path string, fn func(line int, b []byte) error) error {
	f, err := openRead(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	ln := 0
	for sc.Scan() {
		ln++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		if err := fn(ln, b); err != nil {
			return fmt.Errorf("%s:%d: %w", path, ln, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// openRead opens a data-set file to read. It is typed io.ReadCloser so
// nothing can write through it: its Close loses no data, which is the
// reason errcheck leaves (io.ReadCloser).Close unchecked (.golangci.yml).
func openRead(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // not f: a nil *os.File in the interface is not nil
	}
	return f, nil
}
