package ingest

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/richardlehane/mscfb"
)

// HWP 5.0 (Hancom's binary format) is an OLE compound file: a FileHeader
// stream with flags, and BodyText/SectionN streams of records, raw-deflated
// when the compression flag is set. Paragraph text is the PARA_TEXT record:
// UTF-16LE with control characters, some of which stand for an 8-unit
// inline object (a table, a footnote, a field) rather than for text.
// Reference: Hancom's published "HWP 5.0 file format" specification.
const (
	hwpTagParaText   = 0x10 + 51
	hwpFlagCompress  = 1 << 0
	hwpFlagPassword  = 1 << 1
	hwpFlagDistrib   = 1 << 2
	maxHWPStreamSize = 64 << 20
)

var hwpSignature = []byte("HWP Document File")

func parseHWP(ctx context.Context, b []byte) (*Parsed, error) {
	doc, err := mscfb.New(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("hwp: not an HWP 5 compound file: %w", err)
	}
	var header []byte
	sections := map[int][]byte{}
	budget := int64(maxTotalBytes)
	for e, err := doc.Next(); err == nil; e, err = doc.Next() {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		parent := ""
		if len(e.Path) > 0 {
			parent = e.Path[len(e.Path)-1]
		}
		switch {
		case parent == "" && e.Name == "FileHeader":
			header, err = readStream(e, 4096)
		case parent == "BodyText" && strings.HasPrefix(e.Name, "Section"):
			n, convErr := strconv.Atoi(strings.TrimPrefix(e.Name, "Section"))
			if convErr != nil {
				continue
			}
			var s []byte
			s, err = readStream(e, min(int64(maxHWPStreamSize), budget))
			budget -= int64(len(s))
			sections[n] = s
		}
		if err != nil {
			return nil, fmt.Errorf("hwp: %s: %w", e.Name, err)
		}
	}
	if len(header) < 40 || !bytes.HasPrefix(header, hwpSignature) {
		return nil, fmt.Errorf("hwp: no HWP 5 FileHeader (HWP 3 and older files are not supported: save as .hwpx)")
	}
	flags := binary.LittleEndian.Uint32(header[36:40])
	switch {
	case flags&hwpFlagPassword != 0:
		return nil, fmt.Errorf("hwp is password-protected")
	case flags&hwpFlagDistrib != 0:
		return nil, fmt.Errorf("hwp is a distribution document (배포용 문서): its text is encrypted")
	}
	if len(sections) == 0 {
		return nil, fmt.Errorf("hwp: no BodyText sections")
	}
	order := make([]int, 0, len(sections))
	for n := range sections {
		order = append(order, n)
	}
	sort.Ints(order)
	p := &Parsed{}
	for _, n := range order {
		raw := sections[n]
		if flags&hwpFlagCompress != 0 {
			raw, err = inflateBounded(raw, maxHWPStreamSize)
			if err != nil {
				return nil, fmt.Errorf("hwp: BodyText/Section%d: %w", n, err)
			}
		}
		text, err := hwpSectionText(ctx, raw)
		if err != nil {
			return nil, fmt.Errorf("hwp: BodyText/Section%d: %w", n, err)
		}
		if strings.TrimSpace(text) != "" {
			p.Sections = append(p.Sections, Section{Text: text})
		}
	}
	return p, nil
}

func readStream(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w (> %d bytes)", errTooLarge, limit)
	}
	return b, nil
}

func inflateBounded(b []byte, limit int64) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(b)), limit+1))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	if int64(len(out)) > limit {
		return nil, fmt.Errorf("%w (> %d bytes)", errTooLarge, limit)
	}
	return out, nil
}

// hwpSectionText walks a section's records and returns its paragraphs.
func hwpSectionText(ctx context.Context, b []byte) (string, error) {
	var out strings.Builder
	for n := 0; len(b) > 0; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return "", ctx.Err()
		}
		if len(b) < 4 {
			return "", fmt.Errorf("truncated record header")
		}
		h := binary.LittleEndian.Uint32(b)
		tag, size := h&0x3FF, int(h>>20)
		b = b[4:]
		if size == 0xFFF {
			if len(b) < 4 {
				return "", fmt.Errorf("truncated record size")
			}
			size = int(binary.LittleEndian.Uint32(b))
			b = b[4:]
		}
		if size < 0 || size > len(b) {
			return "", fmt.Errorf("record of %d bytes overruns the stream", size)
		}
		if tag == hwpTagParaText {
			if t := paraText(b[:size]); strings.TrimSpace(t) != "" {
				out.WriteString(strings.TrimSpace(t))
				out.WriteString("\n\n")
			}
		}
		b = b[size:]
	}
	return out.String(), nil
}

// paraText decodes PARA_TEXT, skipping the 8-unit inline and extended
// control objects and keeping tabs and line breaks.
func paraText(b []byte) string {
	units := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		units = append(units, binary.LittleEndian.Uint16(b[i:]))
	}
	var kept []uint16
	for i := 0; i < len(units); i++ {
		c := units[i]
		switch {
		case c == 9: // tab: an inline control, 8 units
			kept = append(kept, '\t')
			i += 7
		case c == 10:
			kept = append(kept, '\n')
		case c == 13:
		case c == 30 || c == 31: // non-breaking and fixed-width spaces
			kept = append(kept, ' ')
		case c == 24:
			kept = append(kept, '-')
		case c < 32:
			// Other controls: 4-8 and 19-20 are inline, 1-3, 11-12, 14-18
			// and 21-23 extended; both take 8 units. 0 and 25-29 take one.
			if (c >= 1 && c <= 8) || (c >= 11 && c <= 23) {
				i += 7
			}
		default:
			kept = append(kept, c)
		}
	}
	return string(utf16.Decode(kept))
}
