package network

import (
	"context"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
	ec2 "github.com/upbound/provider-aws/v2/apis/namespaced/ec2/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/compose/composetest"
)

func TestMain(m *testing.M) { os.Exit(composetest.Main(m, API{})) }

func xr(spec map[string]any) *resource.Composite {
	return composetest.XR("Network", "team-a", "main", spec)
}

func baseSpec() map[string]any {
	return map[string]any{
		"region":   "ap-northeast-2",
		"cidr":     "10.10.0.0/16",
		"azCount":  int64(3),
		"natMode":  "perAZ",
		"flowLogs": map[string]any{"destinationArn": "arn:aws:s3:::lake-raw/vpcflow/"},
	}
}

func with(k string, v any) map[string]any {
	s := baseSpec()
	s[k] = v
	return s
}

func TestComposeInvalidSpec(t *testing.T) {
	cases := map[string]struct {
		reason string
		spec   map[string]any
		field  string
	}{
		"OneZone":       {"one AZ is not highly available", with("azCount", int64(1)), "spec.azCount"},
		"SevenZones":    {"the subnet layout has six zone slots", with("azCount", int64(7)), "spec.azCount"},
		"NotCIDR":       {"a CIDR must parse", with("cidr", "10.10.0.0"), "spec.cidr"},
		"HostBits":      {"host bits set is almost always a typo", with("cidr", "10.10.1.0/16"), "spec.cidr"},
		"PublicRange":   {"a VPC in public space hijacks someone's addresses", with("cidr", "8.8.0.0/16"), "spec.cidr"},
		"TooLarge":      {"AWS allows /16 at most", with("cidr", "10.0.0.0/12"), "spec.cidr"},
		"TooSmall":      {"16 slots of a /25 are smaller than /28", with("cidr", "10.10.0.0/25"), "spec.cidr"},
		"IPv6":          {"the VPC is IPv4", with("cidr", "fd00::/56"), "spec.cidr"},
		"BadNATMode":    {"only single and perAZ exist", with("natMode", "none"), "spec.natMode"},
		"NoRegion":      {"region is required", with("region", ""), "spec.region"},
		"BadFlowLogARN": {"flow logs go to S3", with("flowLogs", map[string]any{"destinationArn": "arn:aws:logs:ap-northeast-2:1:log-group:x"}), "spec.flowLogs.destinationArn"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := API{}.Compose(context.Background(), &compose.Request{XR: xr(tc.spec)})
			fe, ok := compose.AsFieldError(err)
			if !ok {
				t.Fatalf("%s: want a field error on %s, got %v", tc.reason, tc.field, err)
			}
			if fe.Field != tc.field {
				t.Errorf("%s: error names field %s, want %s (%v)", tc.reason, fe.Field, tc.field, err)
			}
		})
	}
}

func TestComposeCounts(t *testing.T) {
	cases := map[string]struct {
		reason string
		spec   map[string]any
		kinds  map[string]int
	}{
		"PerAZThreeZones": {
			reason: "perAZ puts a NAT and EIP in each zone; each zone has a private route table",
			spec:   baseSpec(),
			kinds: map[string]int{"VPC": 1, "InternetGateway": 1, "Subnet": 6, "NATGateway": 3, "EIP": 3, "RouteTable": 4, "Route": 4,
				"RouteTableAssociation": 6, "FlowLog": 1, "VPCEndpoint": 4, "VPCEndpointRouteTableAssociation": 3,
				"SecurityGroup": 1, "SecurityGroupIngressRule": 1, "VPCEndpointSecurityGroupAssociation": 3, "VPCEndpointSubnetAssociation": 9},
		},
		"SingleNATTwoZones": {
			reason: "single NAT mode composes one NAT that every private route uses",
			spec:   with("natMode", "single"),
			kinds:  map[string]int{"NATGateway": 1, "EIP": 1, "Subnet": 6, "Route": 4},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := API{}.Compose(context.Background(), &compose.Request{XR: xr(tc.spec)})
			if err != nil {
				t.Fatal(err)
			}
			got := countByType(res)
			for k, want := range tc.kinds {
				if got[k] != want {
					t.Errorf("%s: %d %s, want %d", tc.reason, got[k], k, want)
				}
			}
		})
	}
}

func countByType(res *compose.Result) map[string]int {
	got := map[string]int{}
	for _, o := range res.Resources {
		cd, err := composed.From(o)
		if err != nil {
			panic(err)
		}
		got[cd.GetKind()]++
	}
	return got
}

func TestSingleNATRoutesEveryZoneToZoneA(t *testing.T) {
	res, err := API{}.Compose(context.Background(), &compose.Request{XR: xr(with("natMode", "single"))})
	if err != nil {
		t.Fatal(err)
	}
	for _, z := range []string{"a", "b", "c"} {
		cd, err := composed.From(res.Resources[resource.Name("route-private-"+z+"-default")])
		if err != nil {
			t.Fatal(err)
		}
		got, _ := cd.GetString("spec.forProvider.natGatewayIdSelector.matchLabels[platform.unsilo.dev/component]")
		if got != "nat-a" {
			t.Errorf("zone %s routes to %q, want nat-a", z, got)
		}
	}
}

func TestSubnetLayoutIsStableAcrossZoneCounts(t *testing.T) {
	cidrs := func(az int64) map[string]string {
		res, err := API{}.Compose(context.Background(), &compose.Request{XR: xr(with("azCount", az))})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for name, o := range res.Resources {
			if !strings.HasPrefix(string(name), "subnet-") {
				continue
			}
			cd, _ := composed.From(o)
			out[string(name)], _ = cd.GetString("spec.forProvider.cidrBlock")
		}
		return out
	}
	two, six := cidrs(2), cidrs(6)
	for name, c := range two {
		if six[name] != c {
			t.Errorf("%s is %s with 2 zones but %s with 6: adding zones must not renumber subnets", name, c, six[name])
		}
	}
	if two["subnet-private-a"] != "10.10.0.0/20" || two["subnet-public-a"] != "10.10.128.0/20" {
		t.Errorf("layout changed: private-a %s public-a %s", two["subnet-private-a"], two["subnet-public-a"])
	}
	seen := map[string]string{}
	for name, c := range six {
		if other, dup := seen[c]; dup {
			t.Errorf("%s and %s share %s", name, other, c)
		}
		seen[c] = name
	}
}

// TestTokyoSkipsB: a Network in Tokyo never lands in ap-northeast-1b,
// which new accounts cannot use.
func TestTokyoSkipsB(t *testing.T) {
	s := baseSpec()
	s["region"], s["azCount"] = "ap-northeast-1", int64(3)
	res, err := API{}.Compose(context.Background(), &compose.Request{XR: xr(s)})
	if err != nil {
		t.Fatal(err)
	}
	var zones []string
	for name, o := range res.Resources {
		if sn, ok := o.(*ec2.Subnet); ok && strings.HasPrefix(string(name), "subnet-private-") {
			zones = append(zones, *sn.Spec.ForProvider.AvailabilityZone)
		}
	}
	sort.Strings(zones)
	if strings.Join(zones, ",") != "ap-northeast-1a,ap-northeast-1c,ap-northeast-1d" {
		t.Errorf("private subnets in %v, want a, c and d", zones)
	}
}
