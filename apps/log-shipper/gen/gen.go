// Package gen writes realistic, deterministic (seeded) sample logs of every
// supported source, for demos, tests and benchmarks.
package gen

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// Options control generation.
type Options struct {
	Type     string
	Lines    int
	Seed     uint64
	Start    time.Time     // time of the first record
	Span     time.Duration // records spread evenly over this window
	BadEvery int           // every Nth line is malformed (0: none)
}

// WriteFile generates into path (gzip when it ends in .gz).
func WriteFile(path string, o Options) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create dir of %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		zw = gzip.NewWriter(f)
		w = zw
	}
	if err := Write(w, o); err != nil {
		_ = f.Close() // the write error is the one to report
		return err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			_ = f.Close()
			return fmt.Errorf("gzip %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// Write generates o.Lines records of o.Type to w.
func Write(w io.Writer, o Options) error {
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	}
	if o.Span <= 0 {
		o.Span = 3 * time.Hour
	}
	g := &gen{r: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)), o: o}
	bw := bufio.NewWriterSize(w, 256<<10)
	var err error
	switch o.Type {
	case schema.ALB:
		err = g.lines(bw, "", g.alb)
	case schema.VPCFlow:
		err = g.lines(bw, "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path\n", g.vpc)
	case schema.WAF:
		err = g.lines(bw, "", g.waf)
	case schema.CloudFront:
		err = g.lines(bw, "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end\n", g.cloudfront)
	case schema.Container:
		err = g.lines(bw, "", g.container)
	case schema.CloudTrail:
		err = g.cloudtrail(bw)
	default:
		return fmt.Errorf("gen: unknown type %q", o.Type)
	}
	if err != nil {
		return fmt.Errorf("gen %s: %w", o.Type, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("gen %s: %w", o.Type, err)
	}
	return nil
}

type gen struct {
	r *rand.Rand
	o Options
}

func (g *gen) at(i int) time.Time {
	if g.o.Lines <= 1 {
		return g.o.Start
	}
	return g.o.Start.Add(time.Duration(int64(g.o.Span) / int64(g.o.Lines) * int64(i)))
}

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

// weighted picks xs[i] with probability w[i]/sum(w).
func (g *gen) weighted(xs []string, w []int) string {
	sum := 0
	for _, x := range w {
		sum += x
	}
	n := g.r.IntN(sum)
	for i, x := range w {
		if n < x {
			return xs[i]
		}
		n -= x
	}
	return xs[len(xs)-1]
}

func (g *gen) lines(w *bufio.Writer, header string, line func(i int, t time.Time) string) error {
	if _, err := w.WriteString(header); err != nil {
		return err
	}
	for i := 0; i < g.o.Lines; i++ {
		s := line(i, g.at(i))
		if g.o.BadEvery > 0 && (i+1)%g.o.BadEvery == 0 {
			s = g.corrupt(s)
		}
		if _, err := w.WriteString(s); err != nil {
			return err
		}
		if err := w.WriteByte('\n'); err != nil {
			return err
		}
	}
	return nil
}

// corrupt makes a line malformed in one of a few realistic ways.
func (g *gen) corrupt(s string) string {
	switch g.r.IntN(3) {
	case 0:
		return s[:len(s)/2] // truncated
	case 1:
		return "\x00\x01garbage " + s[:min(len(s), 20)]
	default:
		return strings.Replace(s, "2", "x", 3)
	}
}

func (g *gen) clientIP() string {
	if g.r.IntN(10) == 0 {
		return fmt.Sprintf("2001:db8:%x:%x::%x", g.r.IntN(16), g.r.IntN(256), g.r.IntN(4096))
	}
	return fmt.Sprintf("%d.%d.%d.%d", g.pickInt(203, 198, 192, 100, 52), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
}

func (g *gen) pickInt(xs ...int) int { return xs[g.r.IntN(len(xs))] }

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
	"curl/8.4.0", "python-requests/2.31.0", "Go-http-client/2.0", "ELB-HealthChecker/2.0",
}

var paths = []string{"/", "/api/orders", "/api/orders/42", "/api/users/me", "/login", "/static/app.js", "/static/logo.png", "/health", "/search?q=red+shoes&page=2", "/admin"}

func (g *gen) alb(i int, t time.Time) string {
	typ := g.weighted([]string{"https", "h2", "http", "wss"}, []int{50, 35, 12, 3})
	status := g.weighted([]string{"200", "201", "301", "304", "400", "403", "404", "460", "500", "502", "503", "504"}, []int{600, 40, 30, 40, 20, 15, 60, 5, 25, 25, 20, 10})
	targets := []string{"10.0.1.10:8080", "10.0.1.11:8080", "10.0.2.20:8080", "10.0.2.21:8080", "10.0.3.30:9000", "[2001:db8:0:3::31]:9000"}
	target := targets[g.r.IntN(len(targets))]
	tstatus := status
	reqT, tgtT, respT := fmt.Sprintf("%.3f", g.r.Float64()*0.01), fmt.Sprintf("%.3f", g.r.Float64()*0.8), fmt.Sprintf("%.3f", g.r.Float64()*0.005)
	errReason := "-"
	if status == "460" || status == "403" && g.r.IntN(2) == 0 {
		target, tstatus, reqT, tgtT, respT = "-", "-", "-1", "-1", "-1"
	}
	if status == "502" && g.r.IntN(3) == 0 {
		tstatus, errReason = "-", "TargetConnectionError"
	}
	tlist, slist := target, tstatus
	if target == "-" {
		tlist = "-"
	}
	host := g.pick("shop.example.com", "api.example.com")
	scheme, port := "https", "443"
	if typ == "http" {
		scheme, port = "http", "80"
	}
	verb := g.weighted([]string{"GET", "POST", "PUT", "DELETE"}, []int{70, 20, 6, 4})
	cipher, proto := "ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2"
	if typ == "http" {
		cipher, proto = "-", "-"
	}
	created := t.Add(-time.Duration(g.r.IntN(900)) * time.Millisecond)
	return fmt.Sprintf(`%s %s app/shop-alb/50dc6c495c0c9188 %s:%d %s %s %s %s %s %s %d %d "%s %s://%s:%s%s HTTP/%s" "%s" %s %s arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-tg/73e2d6bc24d8a067 "Root=1-%08x-%024x" "%s" "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" %d %s "%s" "-" "%s" "%s" "%s" "-" "-" TID_%032x`,
		typ, t.Format("2006-01-02T15:04:05.000000Z"), g.clientIP(), 1024+g.r.IntN(60000), target, reqT, tgtT, respT, status, tstatus,
		100+g.r.IntN(2000), 200+g.r.IntN(200000), verb, scheme, host, port, paths[g.r.IntN(len(paths))], g.pick("1.1", "2.0"),
		userAgents[g.r.IntN(len(userAgents))], cipher, proto, uint32(t.Unix()), g.r.Uint64(), host, g.r.IntN(5), created.Format("2006-01-02T15:04:05.000000Z"),
		g.pick("forward", "waf,forward", "forward"), errReason, tlist, slist, g.r.Uint64())
}

func (g *gen) vpc(i int, t time.Time) string {
	if g.r.IntN(100) == 0 {
		return fmt.Sprintf("5 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - %d %d - NODATA vpc-0abc subnet-0abc i-0abc - - - - eu-west-1 euw1-az1 - - - - - -", t.Unix(), t.Unix()+60)
	}
	src, dst := g.clientIP(), fmt.Sprintf("10.0.%d.%d", g.r.IntN(4), 10+g.r.IntN(20))
	dport := g.pickInt(22, 443, 80, 3389, 5432, 8080)
	action := g.weighted([]string{"ACCEPT", "REJECT"}, []int{80, 20})
	if action == "REJECT" && g.r.IntN(4) != 0 { // most rejects come from a few scanners
		src = fmt.Sprintf("198.51.100.%d", 1+g.r.IntN(8))
	}
	proto := g.weighted([]string{"6", "17", "1"}, []int{85, 12, 3})
	pk := 1 + g.r.IntN(200)
	dir := g.pick("ingress", "egress")
	return fmt.Sprintf("5 123456789012 eni-0a1b2c3d4e5f6071%d %s %s %d %d %s %d %d %d %d %s OK vpc-0abc subnet-0abc i-0abc%d %d IPv4 %s %s eu-west-1 euw1-az1 - - - - %s -",
		g.r.IntN(4), src, dst, 1024+g.r.IntN(60000), dport, proto, pk, pk*(40+g.r.IntN(1400)), t.Unix(), t.Unix()+60, action, g.r.IntN(4), g.pickInt(2, 3, 18, 19), src, dst, dir)
}

func (g *gen) waf(i int, t time.Time) string {
	action := g.weighted([]string{"ALLOW", "BLOCK", "COUNT"}, []int{80, 15, 5})
	rule := "Default_Action"
	ruleType := "REGULAR"
	if action == "BLOCK" {
		rule = g.weighted([]string{"AWS-AWSManagedRulesCommonRuleSet", "AWS-AWSManagedRulesSQLiRuleSet", "RateLimit-1000", "GeoBlock"}, []int{40, 25, 25, 10})
		if strings.HasPrefix(rule, "AWS-") {
			ruleType = "MANAGED_RULE_GROUP"
		} else if rule == "RateLimit-1000" {
			ruleType = "RATE_BASED"
		}
	}
	m := map[string]any{
		"timestamp": t.UnixMilli(), "formatVersion": 1,
		"webaclId":          "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/shop/1f2e3d4c",
		"terminatingRuleId": rule, "terminatingRuleType": ruleType, "action": action,
		"terminatingRuleMatchDetails": []any{}, "httpSourceName": "ALB", "httpSourceId": "123456789012-app/shop-alb/50dc6c495c0c9188",
		"ruleGroupList": []any{}, "rateBasedRuleList": []any{}, "nonTerminatingMatchingRules": []any{},
		"httpRequest": map[string]any{"clientIp": g.clientIP(), "country": g.pick("US", "DE", "FR", "KR", "BR", "-"),
			"headers": []map[string]string{{"name": "Host", "value": "shop.example.com"}, {"name": "User-Agent", "value": userAgents[g.r.IntN(len(userAgents))]}},
			"uri":     strings.SplitN(paths[g.r.IntN(len(paths))], "?", 2)[0], "args": "", "httpVersion": "HTTP/1.1",
			"httpMethod": g.pick("GET", "POST"), "requestId": fmt.Sprintf("1-%08x-%024x", uint32(t.Unix()), g.r.Uint64())},
		"labels": []map[string]string{{"name": "awswaf:clientip:geo:country:" + g.pick("US", "DE")}},
	}
	b, _ := json.Marshal(m) // map keys sorted: deterministic
	return string(b)
}

func (g *gen) cloudfront(i int, t time.Time) string {
	status := g.weighted([]string{"200", "304", "404", "403", "502", "000"}, []int{80, 8, 6, 2, 3, 1})
	path := g.pick("/index.html", "/img/hero image.jpg", "/video/intro.mp4", "/app.js", "/fonts/Inter.woff2", "/docs/guide é.pdf")
	result := g.weighted([]string{"Hit", "Miss", "RefreshHit", "Error"}, []int{60, 30, 5, 5})
	bytes := 300 + g.r.IntN(5_000_000)
	if strings.HasSuffix(path, ".mp4") {
		bytes *= 4
	}
	ua := url.PathEscape(userAgents[g.r.IntN(len(userAgents))])
	return strings.Join([]string{t.Format("2006-01-02"), t.Format("15:04:05"), g.pick("LAX1", "FRA56-C1", "ICN54-C2", "SEA19-C1"),
		fmt.Sprint(bytes), g.clientIP(), "GET", "d111111abcdef8.cloudfront.net", url.PathEscape(path), status, "-", ua, "-", "-",
		result, fmt.Sprintf("%016x%016x", g.r.Uint64(), g.r.Uint64()), "www.example.com", "https", fmt.Sprint(100 + g.r.IntN(900)),
		fmt.Sprintf("%.3f", g.r.Float64()), "-", "TLSv1.3", "TLS_AES_128_GCM_SHA256", result, "HTTP/2.0", "-", "-",
		fmt.Sprint(1024 + g.r.IntN(60000)), fmt.Sprintf("%.3f", g.r.Float64()/2), result, "text/html", fmt.Sprint(bytes), "-", "-"}, "\t")
}

func (g *gen) container(i int, t time.Time) string {
	pods := []string{"api-7d9f-abc12", "api-7d9f-def34", "worker-5c8b-xyz", "web-6f7a-qrs"}
	pod := pods[g.r.IntN(len(pods))]
	level := g.weighted([]string{"info", "debug", "warn", "error"}, []int{70, 10, 12, 8})
	var log string
	switch g.r.IntN(3) {
	case 0:
		b, _ := json.Marshal(map[string]any{"level": level, "msg": g.pick("request done", "cache miss", "db timeout", "retrying"), "latency_ms": g.r.IntN(900)})
		log = string(b)
	case 1:
		log = fmt.Sprintf("level=%s msg=%q", level, g.pick("request done", "cache miss", "db timeout"))
	default:
		log = strings.ToUpper(level) + " " + g.pick("GET /api/orders 200", "connection reset by peer", "job finished")
	}
	stream := "stdout"
	if level == "error" || level == "warn" {
		stream = "stderr"
	}
	m := map[string]any{"date": float64(t.UnixMicro()) / 1e6, "log": log, "stream": stream,
		"kubernetes": map[string]any{"pod_name": pod, "namespace_name": g.pick("shop", "shop", "payments"),
			"container_name": strings.SplitN(pod, "-", 2)[0], "host": g.pick("ip-10-0-1-5", "ip-10-0-2-7"),
			"labels": map[string]string{"app": strings.SplitN(pod, "-", 2)[0]}}}
	b, _ := json.Marshal(m)
	return string(b)
}

func (g *gen) cloudtrail(w *bufio.Writer) error {
	users := []string{"alice", "bob", "carol", "deploy-bot"}
	var recs []map[string]any
	for i := 0; i < g.o.Lines; i++ {
		t := g.at(i)
		user := users[g.r.IntN(len(users))]
		ev := map[string]any{"eventVersion": "1.09", "eventTime": t.Format(time.RFC3339), "awsRegion": "eu-west-1",
			"sourceIPAddress": g.clientIP(), "userAgent": g.pick("aws-cli/2.15.0", "console.amazonaws.com", "Boto3/1.34"),
			"eventID": fmt.Sprintf("%016x", g.r.Uint64()), "requestID": fmt.Sprintf("%016x", g.r.Uint64()),
			"recipientAccountId": "123456789012", "managementEvent": true, "eventCategory": "Management",
			"userIdentity": map[string]any{"type": "IAMUser", "userName": user, "arn": "arn:aws:iam::123456789012:user/" + user, "accountId": "123456789012"}}
		switch k := g.r.IntN(10); {
		case k < 2:
			ev["eventName"], ev["eventSource"], ev["eventType"] = "ConsoleLogin", "signin.amazonaws.com", "AwsConsoleSignIn"
			ok := g.weighted([]string{"Success", "Failure"}, []int{70, 30})
			ev["responseElements"] = map[string]any{"ConsoleLogin": ok}
			ev["additionalEventData"] = map[string]any{"MFAUsed": g.pick("Yes", "No")}
			if ok == "Failure" {
				ev["errorMessage"] = "Failed authentication"
			}
		default:
			ev["eventName"] = g.pick("DescribeInstances", "GetObject", "PutObject", "CreateUser", "AssumeRole", "ListBuckets")
			ev["eventSource"] = g.pick("ec2.amazonaws.com", "s3.amazonaws.com", "iam.amazonaws.com", "sts.amazonaws.com")
			ev["eventType"] = "AwsApiCall"
			ev["readOnly"] = g.r.IntN(2) == 0
			if g.r.IntN(6) == 0 {
				ev["errorCode"] = g.pick("AccessDenied", "ThrottlingException", "NoSuchEntity")
				ev["errorMessage"] = "request failed"
			}
			ev["requestParameters"] = map[string]any{"maxResults": 50}
		}
		recs = append(recs, ev)
	}
	b, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
