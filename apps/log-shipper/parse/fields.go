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
	return schema.S(s)
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
	return schema.F(f), nil
}

func ts(name, s string) (schema.Value, time.Time, error) {
	if isNull(s) {
		return schema.Value{}, time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return schema.Value{}, time.Time{}, fmt.Errorf("%s: invalid timestamp %q", name, clip(s))
	}
	t = t.UTC()
	return schema.T(t), t, nil
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
	a, aerr := netip.ParseAddr(h)
	if aerr != nil {
		return ip, port, fmt.Errorf("%s: invalid IP %q", name, clip(h))
	}
	n, perr := strconv.ParseUint(p, 10, 16)
	if perr != nil {
		return ip, port, fmt.Errorf("%s: invalid port %q", name, clip(p))
	}
	_ = a
	return schema.S(h), schema.I(int64(n)), nil
}

func joinErrs(errs []error) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}
