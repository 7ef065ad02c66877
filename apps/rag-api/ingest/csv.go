package ingest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"
)

// decodeText returns b as UTF-8: UTF-8 (with or without a byte-order mark)
// as is, otherwise CP949/EUC-KR, which Korean Excel and Notepad write by
// default — if it decodes cleanly. Anything else is refused.
func decodeText(b []byte) ([]byte, error) {
	b = bytes.TrimPrefix(b, utf8BOM)
	if utf8.Valid(b) {
		return b, nil
	}
	out, err := korean.EUCKR.NewDecoder().Bytes(b)
	if err != nil || !utf8.Valid(out) || bytes.ContainsRune(out, utf8.RuneError) {
		return nil, errors.New("not valid UTF-8 text (nor CP949/EUC-KR)")
	}
	return out, nil
}

// parseCSV reads comma-, semicolon- or tab-separated values (the delimiter
// is taken from the first line) into "header: value" lines like a sheet.
func parseCSV(ctx context.Context, b []byte) (*Parsed, error) {
	b, err := decodeText(b)
	if err != nil {
		return nil, err
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return nil, fmt.Errorf("contains NUL bytes: binary file")
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	r := csv.NewReader(bytes.NewReader(b))
	r.Comma = delimiter(string(first))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	var rows [][]string
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("csv: %w", err)
		}
		rows = append(rows, rec)
		if len(rows) > maxSheetRows {
			return nil, fmt.Errorf("csv: more than %d rows", maxSheetRows)
		}
	}
	return &Parsed{Sections: []Section{{Text: tableText(rows)}}}, nil
}

func delimiter(line string) rune {
	best, n := ',', strings.Count(line, ",")
	for _, d := range []rune{'\t', ';'} {
		if c := strings.Count(line, string(d)); c > n {
			best, n = d, c
		}
	}
	return best
}
