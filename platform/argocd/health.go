// Package argocd runs Argo CD's Lua resource health checks the way Argo CD
// does (gopher-lua, the object as a table in `obj`), so the checks the
// platform ships in argocd-cm are tested against real resource states.
package argocd

import (
	"context"
	"errors"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Health is what a check returns.
type Health struct {
	Status  string // Healthy, Progressing, Degraded, Suspended, Missing, Unknown
	Message string
}

// statuses Argo CD accepts from a health check.
var statuses = map[string]bool{"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true}

// Check runs a health script on an object.
func Check(ctx context.Context, script string, obj map[string]any) (Health, error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: false})
	defer L.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Second) // a check that loops must not hang the test
	defer cancel()
	L.SetContext(ctx)
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		return Health{}, fmt.Errorf("health script: %w", err)
	}
	ret, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return Health{}, errors.New("health script returned no table")
	}
	h := Health{Status: lua.LVAsString(ret.RawGetString("status")), Message: lua.LVAsString(ret.RawGetString("message"))}
	if !statuses[h.Status] {
		return h, fmt.Errorf("health script returned unknown status %q", h.Status)
	}
	return h, nil
}

func toLua(l *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case map[string]any:
		t := l.NewTable()
		for k, e := range x {
			t.RawSetString(k, toLua(l, e))
		}
		return t
	case []any:
		t := l.NewTable()
		for _, e := range x {
			t.Append(toLua(l, e))
		}
		return t
	case string:
		return lua.LString(x)
	case bool:
		return lua.LBool(x)
	case int64:
		return lua.LNumber(x)
	case float64:
		return lua.LNumber(x)
	case nil:
		return lua.LNil
	}
	return lua.LString(fmt.Sprint(v))
}
