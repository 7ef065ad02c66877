package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// fill sets every field reachable in v to a distinct non-zero value, so a
// field added to header or payload.Notification that the binary form
// forgets fails the round trip below.
func fill(v reflect.Value, seed *int) {
	*seed++
	switch v.Kind() {
	case reflect.Struct:
		if t, ok := v.Addr().Interface().(*time.Time); ok {
			*t = time.Unix(1_800_000_000+int64(*seed)*3601, int64(*seed)).In(time.FixedZone("", (*seed%24-12)*3600))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), seed)
			}
		}
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d-é", *seed))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*seed) * 1000003)
	case reflect.Uint64:
		v.SetUint(uint64(*seed) << 40)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Array:
		for i := range v.Len() {
			v.Index(i).Set(reflect.ValueOf(byte(*seed + i)))
		}
	case reflect.Slice: // Raw: stored apart from the header
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

func jsonOf(t testing.TB, h header) string {
	t.Helper()
	j, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return string(j)
}

func TestHeaderRoundTrip(t *testing.T) {
	var full header
	seed := 0
	fill(reflect.ValueOf(&full).Elem(), &seed)
	raw := []byte(`{"body":"verbatim"}`)
	oldForm := func(h header) []byte { // how headers were written before the binary form
		j, _ := json.Marshal(h)
		return binary.BigEndian.AppendUint32(append(append([]byte(nil), raw...), j...), uint32(len(j)))
	}
	for _, tc := range []struct {
		name string
		h    header
		enc  func(header) []byte
	}{
		{"every field set", full, nil},
		{"zero times and values", header{ID: "x"}, nil},
		{"JSON header of an older file", full, oldForm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.enc
			if v == nil {
				v = func(h header) []byte {
					b, err := encodeMsg(&h, raw)
					if err != nil {
						t.Fatal(err)
					}
					return b
				}
			}
			got, body, err := decodeHeader(v(tc.h))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, raw) {
				t.Fatalf("body %q, want %q", body, raw)
			}
			if g, w := jsonOf(t, got), jsonOf(t, tc.h); g != w {
				t.Fatalf("round trip:\n got %s\nwant %s", g, w)
			}
		})
	}
}

// A header cut short or with bytes after its fields is an error, never a
// message with fields silently zeroed.
func TestHeaderTruncated(t *testing.T) {
	var full header
	seed := 0
	fill(reflect.ValueOf(&full).Elem(), &seed)
	b, err := appendHeaderBinary(nil, &full)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(b) {
		if _, err := decodeHeaderBinary(b[:i]); err == nil {
			t.Fatalf("header cut to %d of %d bytes decoded", i, len(b))
		}
	}
	if _, err := decodeHeaderBinary(append(b, 0)); err == nil {
		t.Fatal("header with a trailing byte decoded")
	}
}

// FuzzDecodeHeader: arbitrary stored bytes never panic, and whatever
// decodes encodes back to the same fields.
func FuzzDecodeHeader(f *testing.F) {
	var full header
	seed := 0
	fill(reflect.ValueOf(&full).Elem(), &seed)
	for _, h := range []header{full, {}} {
		b, err := encodeMsg(&h, []byte(`{}`))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0, 0, 0, 1, headerV2})
	f.Fuzz(func(t *testing.T, v []byte) {
		h, _, err := decodeHeader(v)
		if err != nil {
			return
		}
		b, err := appendHeaderBinary(nil, &h)
		if err != nil {
			return // e.g. a time the JSON form held but binary cannot
		}
		h2, err := decodeHeaderBinary(b)
		if err != nil {
			t.Fatalf("re-encoded header does not decode: %v", err)
		}
		// Compared by their encodings: a corrupt time may be outside what
		// JSON can print.
		if b2, err := appendHeaderBinary(nil, &h2); err != nil || !bytes.Equal(b2, b) {
			t.Fatalf("re-encode changed the header (%v):\n got %x\nwant %x", err, b2, b)
		}
	})
}

// BenchmarkHeader: one webhook's header written (Enqueue) and read (each
// delivery attempt's lease), in the binary form and in the JSON form it
// replaced.
func BenchmarkHeader(b *testing.B) {
	n := notif(b, "bench", "firing", 0, 1)
	h := header{ID: "0123456789ab-000000000001", ReceivedAt: time.Now(), AgeFrom: time.Now(), Notification: *n}
	for _, form := range []string{"binary", "json"} {
		b.Run(form, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var v []byte
				if form == "binary" {
					v, _ = appendHeader(nil, &h)
				} else {
					j, _ := json.Marshal(&h)
					v = binary.BigEndian.AppendUint32(j, uint32(len(j)))
				}
				if _, _, err := decodeHeader(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
