package bootstrap

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"sigs.k8s.io/yaml"
)

// fakeAWS answers the IAM and STS query-protocol calls bootstrap makes,
// keeping state, so the real SDK clients are exercised end to end.
type fakeAWS struct {
	mu       sync.Mutex
	account  string
	users    map[string]bool
	roles    map[string]string // name -> trust policy
	policies map[string]string // "user/NAME/POLICY" or "role/NAME/POLICY" -> document
	keys     map[string][]string
	calls    []string
}

const created = "<CreateDate>2026-01-01T00:00:00Z</CreateDate>"

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	act := r.Form.Get("Action")
	f.calls = append(f.calls, act)
	user, role := r.Form.Get("UserName"), r.Form.Get("RoleName")
	ok := func(result string) {
		fmt.Fprintf(w, `<%sResponse><%sResult>%s</%sResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></%sResponse>`, act, act, result, act, act)
	}
	missing := func(what string) {
		w.WriteHeader(404)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The %s cannot be found.</Message></Error><RequestId>r</RequestId></ErrorResponse>`, what)
	}
	userXML := fmt.Sprintf(`<User><Path>/</Path><UserName>%s</UserName><UserId>AIDA1</UserId><Arn>arn:aws:iam::%s:user/%s</Arn>%s</User>`, user, f.account, user, created)
	roleXML := fmt.Sprintf(`<Role><Path>/</Path><RoleName>%s</RoleName><RoleId>AROA1</RoleId><Arn>arn:aws:iam::%s:role/%s</Arn>%s</Role>`, role, f.account, role, created)
	switch act {
	case "GetCallerIdentity":
		ok(fmt.Sprintf(`<Arn>arn:aws:iam::%s:user/admin</Arn><UserId>AIDA0</UserId><Account>%s</Account>`, f.account, f.account))
	case "GetUser":
		if !f.users[user] {
			missing("user with name " + user)
			return
		}
		ok(userXML)
	case "CreateUser":
		f.users[user] = true
		ok(userXML)
	case "PutUserPolicy":
		f.policies["user/"+user+"/"+r.Form.Get("PolicyName")] = r.Form.Get("PolicyDocument")
		ok("")
	case "GetRole":
		if _, exists := f.roles[role]; !exists {
			missing("role with name " + role)
			return
		}
		ok(roleXML)
	case "CreateRole", "UpdateAssumeRolePolicy":
		f.roles[role] = r.Form.Get("AssumeRolePolicyDocument") + r.Form.Get("PolicyDocument")
		if act == "CreateRole" {
			ok(roleXML)
		} else {
			ok("")
		}
	case "PutRolePolicy":
		f.policies["role/"+role+"/"+r.Form.Get("PolicyName")] = r.Form.Get("PolicyDocument")
		ok("")
	case "ListAccessKeys":
		var b strings.Builder
		for _, k := range f.keys[user] {
			fmt.Fprintf(&b, `<member><UserName>%s</UserName><AccessKeyId>%s</AccessKeyId><Status>Active</Status>%s</member>`, user, k, created)
		}
		ok(`<AccessKeyMetadata>` + b.String() + `</AccessKeyMetadata><IsTruncated>false</IsTruncated>`)
	case "CreateAccessKey":
		id := fmt.Sprintf("AKIAEXAMPLE%d", len(f.keys[user])+1)
		f.keys[user] = append(f.keys[user], id)
		ok(fmt.Sprintf(`<AccessKey><UserName>%s</UserName><AccessKeyId>%s</AccessKeyId><Status>Active</Status><SecretAccessKey>secret-%s</SecretAccessKey>%s</AccessKey>`, user, id, id, created))
	default:
		http.Error(w, "unexpected action "+act, 400)
	}
}

func clients(t *testing.T, f *fakeAWS) (*iam.Client, *sts.Client) {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIAADMIN", "admin", "")}
	return iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

func TestEnsure(t *testing.T) {
	ctx := context.Background()
	set, err := ReadSettings("../..", "dev")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := ReadDocuments("../..")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeAWS{account: set.AccountID, users: map[string]bool{}, roles: map[string]string{}, policies: map[string]string{}, keys: map[string][]string{}}
	i, s := clients(t, f)

	first, err := Ensure(ctx, i, s, set, docs, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(first.Created, ", "); got != "user unsilo-management, role unsilo-management, access key AKIAEXAMPLE1" || first.Key == nil {
		t.Fatalf("first run created %q (key %v)", got, first.Key)
	}
	trust := f.roles["unsilo-management"]
	if !strings.Contains(trust, `"arn:aws:iam::`+set.AccountID+`:user/unsilo-management"`) || strings.Contains(trust, "ACCOUNT_ID") {
		t.Errorf("the role trusts %s", trust)
	}
	if p := f.policies["user/unsilo-management/assume-management"]; !strings.Contains(p, `"sts:AssumeRole"`) || !strings.Contains(p, set.ManagementRoleArn) {
		t.Errorf("the user may do more or other than assume the role: %s", p)
	}
	if p := f.policies["role/unsilo-management/manage-cluster"]; !strings.Contains(p, `"eks:*"`) {
		t.Errorf("role policy %s", p)
	}

	// The Secret the management cluster's ClusterProviderConfig reads.
	var sec struct {
		Metadata   struct{ Name, Namespace string }
		StringData map[string]string `json:"stringData"`
	}
	if err := yaml.Unmarshal(Secret(first.Key), &sec); err != nil {
		t.Fatal(err)
	}
	if sec.Metadata.Namespace != "crossplane-system" || sec.Metadata.Name != "aws-management" ||
		sec.StringData["credentials"] != "[default]\naws_access_key_id = AKIAEXAMPLE1\naws_secret_access_key = secret-AKIAEXAMPLE1\n" {
		t.Errorf("secret %+v", sec)
	}

	again, err := Ensure(ctx, i, s, set, docs, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Created) != 0 || again.Key != nil {
		t.Errorf("a second run must create nothing, created %v", again.Created)
	}
	rotated, err := Ensure(ctx, i, s, set, docs, true)
	if err != nil || rotated.Key == nil || rotated.Key.ID != "AKIAEXAMPLE2" {
		t.Fatalf("rotation: %+v %v", rotated, err)
	}
	if _, err := Ensure(ctx, i, s, set, docs, true); err == nil || !strings.Contains(err.Error(), "two access keys already") {
		t.Errorf("a third key is IAM's limit and needs a person: %v", err)
	}
}

func TestEnsureRefusesAnotherAccount(t *testing.T) {
	set, err := ReadSettings("../..", "prod")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeAWS{account: "999999999999", users: map[string]bool{}, roles: map[string]string{}, policies: map[string]string{}, keys: map[string][]string{}}
	i, s := clients(t, f)
	_, err = Ensure(context.Background(), i, s, set, Documents{}, false)
	if err == nil || !strings.Contains(err.Error(), "the credentials are for account 999999999999, but clusters/prod/settings names account "+set.AccountID) {
		t.Fatalf("want the account refused, got %v", err)
	}
	if len(f.calls) != 1 {
		t.Errorf("nothing but GetCallerIdentity may be called in the wrong account: %v", f.calls)
	}
}

func TestReadSettingsErrors(t *testing.T) {
	if _, err := ReadSettings("../..", "staging"); err == nil {
		t.Error("an environment without settings is an error")
	}
	if _, err := roleName("arn:aws:iam::111122223333:role/a/b", "111122223333"); err == nil {
		t.Error("a role with a path is not what the settings name")
	}
	if _, err := roleName("arn:aws:iam::444455556666:role/x", "111122223333"); err == nil {
		t.Error("a role of another account")
	}
}
