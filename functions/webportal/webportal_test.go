package webportal

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/compose/composetest"
)

func TestMain(m *testing.M) { os.Exit(composetest.Main(m, API{})) }

func xr(spec map[string]any) *resource.Composite {
	return composetest.XR("WebPortal", "shop", "shop", spec)
}

func base() map[string]any {
	return map[string]any{
		"networkRef":  map[string]any{"name": "net"},
		"environment": "prod",
		"instances":   map[string]any{"type": "m7g.large", "amiId": "ami-0123456789abcdef0", "min": int64(2), "max": int64(4)},
		"https":       map[string]any{"certificateArn": "arn:aws:acm:ap-northeast-2:123456789012:certificate/0b9a0e6c-9f0e"},
		"database":    map[string]any{"instanceClass": "db.m7g.large"},
		"waf":         map[string]any{"firehoseArn": "arn:aws:firehose:ap-northeast-2:123456789012:deliverystream/aws-waf-logs-x"},
		"accessLogs":  map[string]any{"bucket": "lake-raw", "prefix": "alb/"},
	}
}

func set(s map[string]any, path []string, v any) map[string]any {
	_ = unstructured.SetNestedField(s, v, path...)
	return s
}

var theNetwork = []resource.Required{{Resource: &unstructured.Unstructured{Object: map[string]any{
	"apiVersion": "platform.unsilo.dev/v1alpha1", "kind": "Network",
	"metadata": map[string]any{"name": "net", "namespace": "shop"},
	"spec":     map[string]any{"region": "ap-northeast-2"},
}}}}

func withNetwork(spec map[string]any) *compose.Request {
	return &compose.Request{XR: xr(spec), Required: composetest.Required(map[string][]resource.Required{"network": theNetwork})}
}

func TestAsksForTheNetworkFirst(t *testing.T) {
	res, err := API{}.Compose(context.Background(), &compose.Request{XR: xr(base())})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Resources) != 0 {
		t.Errorf("composed %d resources before knowing the Network: never a partial set", len(res.Resources))
	}
	if sel := res.Require["network"]; sel.Kind != "Network" || sel.Name != "net" {
		t.Errorf("requirement = %+v, want the Network named net", sel)
	}
}

func TestInvalid(t *testing.T) {
	cases := map[string]struct {
		reason string
		req    *compose.Request
		field  string
	}{
		"MissingNetwork": {"a Network that does not exist is named", &compose.Request{XR: xr(base()), Required: composetest.Required(map[string][]resource.Required{"network": {}})}, "spec.networkRef.name"},
		"MinOverMax":     {"min > max", withNetwork(set(base(), []string{"instances", "min"}, int64(5))), "spec.instances.min"},
		"DesiredOutside": {"desired outside min..max", withNetwork(set(base(), []string{"instances", "desired"}, int64(9))), "spec.instances.desired"},
		"CertRegion":     {"the ALB's certificate must be from the Network's region", withNetwork(set(base(), []string{"https", "certificateArn"}, "arn:aws:acm:us-east-1:123456789012:certificate/0b9a")), "spec.https.certificateArn"},
		"HTTPInProd":     {"plain HTTP only in dev", withNetwork(set(base(), []string{"https", "allowHttpOnly"}, true)), "spec.https.allowHttpOnly"},
		"NoCert":         {"HTTPS needs a certificate", withNetwork(set(base(), []string{"https"}, map[string]any{})), "spec.https.certificateArn"},
		"WAFStream":      {"WAF logs only to aws-waf-logs-* streams", withNetwork(set(base(), []string{"waf", "firehoseArn"}, "arn:aws:firehose:ap-northeast-2:123456789012:deliverystream/waf")), "spec.waf.firehoseArn"},
		"ProdBackups":    {"prod keeps a week of backups", withNetwork(set(base(), []string{"database", "backupRetentionDays"}, int64(3))), "spec.database.backupRetentionDays"},
		"BadAMI":         {"AMI ids have a shape", withNetwork(set(base(), []string{"instances", "amiId"}, "ubuntu")), "spec.instances.amiId"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := API{}.Compose(context.Background(), tc.req)
			fe, ok := compose.AsFieldError(err)
			if !ok || fe.Field != tc.field {
				t.Fatalf("%s: want a field error on %s, got %v", tc.reason, tc.field, err)
			}
		})
	}
}

const targetGroupARN = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/shop/0123456789abcdef"

func TestComposes(t *testing.T) {
	req := withNetwork(base())
	req.Observed = composetest.Observed(map[string]map[string]any{"target-group": {"arn": targetGroupARN}})
	res, err := API{}.Compose(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, o := range res.Resources {
		if u, ok := o.(*unstructured.Unstructured); ok {
			kinds[u.GetKind()]++
			continue
		}
		cd, err := composed.From(o)
		if err != nil {
			t.Fatal(err)
		}
		kinds[cd.GetKind()]++
	}
	want := map[string]int{"LB": 1, "LBListener": 2, "LBTargetGroup": 1, "LaunchTemplate": 1, "AutoscalingGroup": 0, "Instance": 1, "WebACL": 1, "SecurityGroup": 3}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d %s, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
	if _, ok := res.Resources["waf-alb"]; ok {
		t.Error("the WAF association needs the ALB's ARN; it must wait until the ALB exists")
	}
	if _, ok := res.Resources["asg"]; ok {
		t.Error("the group needs the launch template's version number; it must wait for the template")
	}
	http, _ := composed.From(res.Resources["listener-http"])
	if typ, _ := http.GetString("spec.forProvider.defaultAction[0].type"); typ != "redirect" {
		t.Errorf("the HTTP listener's action is %q, want a redirect to HTTPS", typ)
	}
	https, _ := composed.From(res.Resources["listener-https"])
	if arn, _ := https.GetString("spec.forProvider.defaultAction[0].targetGroupArn"); arn != targetGroupARN {
		t.Errorf("the HTTPS listener forwards to %q, want the target group's ARN as AWS reported it", arn)
	}
	if _, err := https.GetValue("spec.forProvider.defaultAction[0].targetGroupArnSelector"); err == nil {
		t.Error("a selector inside the action list: the reference resolver and Crossplane's apply would own the list in turn")
	}
}

func TestListenersWaitForTheTargetGroup(t *testing.T) {
	res, err := API{}.Compose(context.Background(), withNetwork(base()))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []resource.Name{"listener-http", "listener-https"} {
		if _, ok := res.Resources[n]; ok {
			t.Errorf("%s composed before the target group's ARN is known", n)
		}
	}
	if _, ok := res.Pending["listeners"]; !ok {
		t.Errorf("pending = %v, want the listeners waiting for the target group", res.Pending)
	}
}

func TestWAFAssociationOnceALBExists(t *testing.T) {
	req := withNetwork(base())
	alb := composed.New()
	_ = alb.SetValue("status.atProvider", map[string]any{"arn": "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:loadbalancer/app/x/1", "dnsName": "x.elb.amazonaws.com"})
	req.Observed = map[resource.Name]resource.ObservedComposed{"alb": {Resource: alb}}
	res, err := API{}.Compose(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	assoc, err := composed.From(res.Resources["waf-alb"])
	if err != nil {
		t.Fatalf("no WAF association once the ALB exists: %v", err)
	}
	if arn, _ := assoc.GetString("spec.forProvider.resourceArn"); arn != "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:loadbalancer/app/x/1" {
		t.Errorf("association targets %q", arn)
	}
	if res.Status["albDnsName"] != "x.elb.amazonaws.com" {
		t.Errorf("status = %v", res.Status)
	}
}

// TestSettlesOnceRunning: the group pins the template's version number (a
// new version starts the instance refresh), target tracking owns the
// desired capacity, and the instances may read the RDS-managed secret.
func TestSettlesOnceRunning(t *testing.T) {
	req := withNetwork(base())
	lt, db := composed.New(), composed.New()
	_ = lt.SetValue("status.atProvider", map[string]any{"latestVersion": 4.0})
	secret := "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!db-1234-AbCdEf"
	_ = db.SetValue("status.atProvider", map[string]any{"masterUserSecret": []any{map[string]any{"secretArn": secret}}})
	req.Observed = map[resource.Name]resource.ObservedComposed{"launch-template": {Resource: lt}, "database": {Resource: db}}
	res, err := API{}.Compose(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	asg, err := composed.From(res.Resources["asg"])
	if err != nil {
		t.Fatalf("no group once the template exists: %v", err)
	}
	if v, _ := asg.GetString("spec.forProvider.launchTemplate.version"); v != "4" {
		t.Errorf("version %q, want the template's number 4", v)
	}
	if _, err := asg.GetValue("spec.forProvider.desiredCapacity"); err == nil {
		t.Error("desiredCapacity in forProvider: every poll would undo target tracking")
	}
	if n, _ := asg.GetInteger("spec.initProvider.desiredCapacity"); n != 2 {
		t.Errorf("initProvider desiredCapacity %d, want 2", n)
	}
	pol, err := composed.From(res.Resources["instance-role-db-secret"])
	if err != nil {
		t.Fatalf("no secret access: %v", err)
	}
	if p, _ := pol.GetString("spec.forProvider.policy"); !strings.Contains(p, secret) || !strings.Contains(p, "secretsmanager:GetSecretValue") {
		t.Errorf("policy %s", p)
	}
	if res.Status["databaseSecretArn"] != secret {
		t.Errorf("status %v", res.Status)
	}
}
