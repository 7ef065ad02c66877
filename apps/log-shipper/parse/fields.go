package parse

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// Helpers converting one textual field to a schema value; "-" (and "") is null.

func isNull(s string) bool { return s == "-" || s == "" }

func str(s string) schema.Value {
	if isNull(s) {
		return schema.Value{}
	}
	return schema.StringOf(s)
}

func intField(name, s string, bits int, kind schema.Kind) (schema.Value, error) {
	if isNull(s) {
		return schema.Value{}, nil
	}
	n, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return schema.Value{}, fmt.Errorf("%s: invalid integer %q", name, clip(s))
	}
	return schema.Value{Kind: kind, Int: n}, nil
}

func i32(name, s string) (schema.Value, error) { return intField(name, s, 32, schema.Int) }
func i64(name, s string) (schema.Value, error) { return intField(name, s, 64, schema.BigInt) }

func f64(name, s string) (schema.Value, error) {
	if isNull(s) {
		return schema.Value{}, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return schema.Value{}, fmt.Errorf("%s: invalid number %q", name, clip(s))
	}
	return schema.DoubleOf(f), nil
}

func ts(name, s string) (schema.Value, time.Time, error) {
	if isNull(s) {
		return schema.Value{}, time.Time{}, nil
	}
	t, ok := parseUTC(s)
	if ok {
		return schema.TimeOf(t), t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return schema.Value{}, time.Time{}, fmt.Errorf("%s: invalid timestamp %q", name, clip(s))
	}
	t = t.UTC()
	return schema.TimeOf(t), t, nil
}

// parseUTC parses the form AWS writes, YYYY-MM-DDTHH:MM:SS[.fraction]Z,
// several times faster than time.Parse; ok is false for anything else
// (other offsets, out-of-range fields), which is left to time.Parse so
// that both accept and reject the same text.
func parseUTC(s string) (time.Time, bool) {
	if len(s) < 20 || s[len(s)-1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(a, b int) int {
		n := 0
		for i := a; i < b; i++ {
			d := s[i] - '0'
			if d > 9 {
				return -1
			}
			n = n*10 + int(d)
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec := num(11, 13), num(14, 16), num(17, 19)
	nsec := 0
	switch rest := s[19 : len(s)-1]; {
	case rest == "":
	case rest[0] == '.' && len(rest) >= 2 && len(rest) <= 10:
		nsec = num(20, len(s)-1)
		for i := len(rest) - 1; i < 9; i++ {
			nsec *= 10
		}
	default:
		return time.Time{}, false
	}
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
		sec < 0 || sec > 59 || nsec < 0 || day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	secs := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec)
	return time.Unix(secs, int64(nsec)).UTC(), true
}

// daysFromCivil is the number of days from 1970-01-01 to a valid
// proleptic Gregorian date (H. Hinnant's algorithm): what time.Date
// computes, without its normalisation.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// hostPort splits ip:port, [ipv6]:port and unbracketed ipv6:port (the port
// is after the last colon). "-" gives two nulls.
func hostPort(name, s string) (ip, port schema.Value, err error) {
	if isNull(s) {
		return schema.Value{}, schema.Value{}, nil
	}
	var h, p string
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]:")
		if end < 0 {
			return ip, port, fmt.Errorf("%s: invalid address %q", name, clip(s))
		}
		h, p = s[1:end], s[end+2:]
	} else {
		i := strings.LastIndexByte(s, ':')
		if i < 0 {
			return ip, port, fmt.Errorf("%s: invalid address %q (no port)", name, clip(s))
		}
		h, p = s[:i], s[i+1:]
	}
	if !isIPv4(h) {
		if _, aerr := netip.ParseAddr(h); aerr != nil {
			return ip, port, fmt.Errorf("%s: invalid IP %q", name, clip(h))
		}
	}
	n, perr := strconv.ParseUint(p, 10, 16)
	if perr != nil {
		return ip, port, fmt.Errorf("%s: invalid port %q", name, clip(p))
	}
	return schema.StringOf(h), schema.IntOf(int64(n)), nil
}

// isIPv4 reports whether s is a dotted-quad IPv4 address as
// netip.ParseAddr accepts it (four decimal octets up to 255, no leading
// zeros), without building the address; false sends s to netip.
func isIPv4(s string) bool {
	parts, n, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || n > 255 || (digits > 1 && s[i-digits] == '0') {
				return false
			}
			parts++
			n, digits = 0, 0
			continue
		}
		d := s[i] - '0'
		if d > 9 || digits == 3 {
			return false
		}
		n = n*10 + int(d)
		digits++
	}
	return parts == 4
}

func joinErrs(errs []error) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}
