package ingest

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Zip-based formats (DOCX, PPTX, XLSX, HWPX) are read part by part with a
// bound on what each part and all parts together inflate to: a zip bomb
// expands to gigabytes from a few kilobytes, and the sizes in the zip headers
// can lie, so the bytes actually decompressed are counted.
const (
	maxPartBytes  = 64 << 20
	maxTotalBytes = 256 << 20
)

var errTooLarge = errors.New("decompressed size exceeds limit")

type zipDoc struct {
	format string
	files  map[string]*zip.File
	names  []string
	used   int64
}

func openZip(b []byte, format string) (*zipDoc, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: not a zip archive: %w", format, err)
	}
	z := &zipDoc{format: format, files: map[string]*zip.File{}}
	for _, f := range zr.File {
		z.files[f.Name] = f
		z.names = append(z.names, f.Name)
	}
	return z, nil
}

// need returns a part the format cannot do without; its absence is an error.
func (z *zipDoc) need(name string) ([]byte, error) {
	b, err := z.read(name)
	if err == nil && b == nil {
		err = fmt.Errorf("%s: no %s part", z.format, name)
	}
	return b, err
}

// read returns a part's bytes, nil if the part does not exist.
func (z *zipDoc) read(name string) ([]byte, error) {
	f, ok := z.files[name]
	if !ok {
		return nil, nil
	}
	limit := min(int64(maxPartBytes), maxTotalBytes-z.used)
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("%s: %s: %w (%d > %d bytes)", z.format, name, errTooLarge, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", z.format, name, err)
	}
	defer rc.Close()
	out, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", z.format, name, err)
	}
	if int64(len(out)) > limit {
		return nil, fmt.Errorf("%s: %s: %w (> %d bytes)", z.format, name, errTooLarge, limit)
	}
	z.used += int64(len(out))
	return out, nil
}
