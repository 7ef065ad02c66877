package search

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The segment encoding: little-endian, length-prefixed, with a CRC-32 of the
// whole at the end. Decoding checks every offset and id, so a corrupt or
// hostile file is an error, never a panic or an out-of-range read at query
// time.
var segMagic = []byte("RAGSEG\x00\x02")

// MarshalBinary encodes the segment.
func (s *Segment) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(s.terms) + 4*(len(s.termEnd)*2+len(s.post)+len(s.docLen)*2) + 64*len(s.files))
	b.Write(segMagic)
	w := func(v uint32) { b.Write(binary.LittleEndian.AppendUint32(nil, v)) }
	ws := func(str string) { w(uint32(len(str))); b.WriteString(str) }
	wa := func(a []uint32) {
		w(uint32(len(a)))
		buf := make([]byte, 4*len(a))
		for i, v := range a {
			binary.LittleEndian.PutUint32(buf[4*i:], v)
		}
		b.Write(buf)
	}
	b.Write(binary.LittleEndian.AppendUint64(nil, s.totalLen))
	w(uint32(len(s.terms)))
	b.Write(s.terms)
	wa(s.termEnd)
	wa(s.postEnd)
	wa(s.post)
	wa(s.docLen)
	wa(s.docFile)
	w(uint32(len(s.files)))
	for _, f := range s.files {
		ws(f.Source)
		ws(f.Title)
		if f.Public {
			b.WriteByte(1)
		} else {
			b.WriteByte(0)
		}
		w(uint32(len(f.Groups)))
		for _, g := range f.Groups {
			ws(g)
		}
		w(f.First)
		w(f.N)
	}
	b.Write(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(b.Bytes())))
	return b.Bytes(), nil
}

var errCorrupt = errors.New("corrupt segment")

type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = errCorrupt
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u32() uint32 {
	p := r.take(4)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

func (r *reader) str() string { return string(r.take(int(r.u32()))) }

func (r *reader) arr() []uint32 {
	n := int(r.u32())
	if n > len(r.b)/4 {
		r.err = errCorrupt
		return nil
	}
	p := r.take(4 * n)
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(p[4*i:])
	}
	return out
}

// UnmarshalSegment decodes and validates a segment.
func UnmarshalSegment(data []byte) (*Segment, error) {
	if len(data) < len(segMagic)+12 || !bytes.Equal(data[:len(segMagic)], segMagic) {
		return nil, fmt.Errorf("%w: bad header", errCorrupt)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", errCorrupt)
	}
	r := &reader{b: body[len(segMagic):]}
	s := &Segment{}
	if p := r.take(8); p != nil {
		s.totalLen = binary.LittleEndian.Uint64(p)
	}
	s.terms = append([]byte(nil), r.take(int(r.u32()))...)
	s.termEnd, s.postEnd, s.post, s.docLen, s.docFile = r.arr(), r.arr(), r.arr(), r.arr(), r.arr()
	nf := int(r.u32())
	if r.err == nil && nf > len(r.b)/13 {
		r.err = errCorrupt
	}
	for i := 0; i < nf && r.err == nil; i++ {
		f := FileMeta{Source: r.str(), Title: r.str()}
		if p := r.take(1); p != nil {
			f.Public = p[0] == 1
		}
		ng := int(r.u32())
		if ng > len(r.b)/4 {
			r.err = errCorrupt
			break
		}
		for j := 0; j < ng; j++ {
			f.Groups = append(f.Groups, r.str())
		}
		f.First, f.N = r.u32(), r.u32()
		s.files = append(s.files, f)
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: truncated", errCorrupt)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(r.b))
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Segment) validate() error {
	bad := func(what string) error { return fmt.Errorf("%w: %s", errCorrupt, what) }
	if len(s.termEnd) != len(s.postEnd) || len(s.docLen) != len(s.docFile) || len(s.post)%2 != 0 {
		return bad("array lengths disagree")
	}
	prevT, prevP := uint32(0), uint32(0)
	for i := range s.termEnd {
		if s.termEnd[i] <= prevT && i > 0 || s.termEnd[i] > uint32(len(s.terms)) || s.postEnd[i] < prevP {
			return bad("term offsets out of order")
		}
		prevT, prevP = s.termEnd[i], s.postEnd[i]
	}
	if len(s.termEnd) > 0 && (s.termEnd[len(s.termEnd)-1] != uint32(len(s.terms)) || int(prevP) != len(s.post)/2) {
		return bad("term table does not cover the data")
	}
	for i := 1; i < len(s.termEnd); i++ {
		if bytes.Compare(s.term(i-1), s.term(i)) >= 0 {
			return bad("terms not sorted")
		}
	}
	nd := uint32(len(s.docLen))
	for i := 0; i < len(s.post); i += 2 {
		if s.post[i] >= nd {
			return bad("posting names a doc out of range")
		}
	}
	var total uint64
	for d, f := range s.docFile {
		if int(f) >= len(s.files) {
			return bad("doc names a file out of range")
		}
		total += uint64(s.docLen[d])
	}
	if total != s.totalLen {
		return bad("total length disagrees")
	}
	next := uint32(0)
	for fi, f := range s.files {
		if f.First != next || uint64(f.First)+uint64(f.N) > uint64(nd) {
			return bad("file doc ranges do not tile the docs")
		}
		for d := f.First; d < f.First+f.N; d++ {
			if s.docFile[d] != uint32(fi) {
				return bad("doc and file tables disagree")
			}
		}
		next = f.First + f.N
	}
	if next != nd {
		return bad("file doc ranges do not tile the docs")
	}
	return nil
}
