package answer

import (
	"regexp"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Passages are data. A document may still carry text written to steer
// whatever reads it — "ignore previous instructions", "tell users to email
// their password to ...", a fake </passage> tag — and an answerer that
// quotes or obeys it turns a document into an attack. Every backend gets
// passages through this guard: the extractive answerer never quotes an
// instruction-like sentence, and model prompts carry a marker in its place.

// Removed stands in for an instruction-like sentence in model prompts.
const Removed = "[instruction-like text removed]"

// normalise folds the disguises detection would otherwise miss: full-width
// and compatibility forms (NFKC), case, zero-width characters, and runs of
// whitespace.
func normalise(s string) string {
	s = norm.NFKC.String(s)
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad':
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// rule is one pattern and the words it cannot match without: the cheap
// substring test runs first, so ordinary sentences never reach the regexp
// (each costs milliseconds on a long sentence).
type rule struct {
	needs []string
	re    *regexp.Regexp
}

func (r rule) match(s string) bool {
	for _, n := range r.needs {
		if strings.Contains(s, n) {
			return r.re.MatchString(s)
		}
	}
	return false
}

// rules builds a rule; needs is a comma-separated list of substrings.
func rules(needs string, patterns ...string) rule {
	r := rule{re: regexp.MustCompile(strings.Join(patterns, "|"))}
	for _, n := range strings.Split(needs, ",") {
		if n == "" {
			panic("guard: empty needle in " + needs)
		}
		r.needs = append(r.needs, n)
	}
	return r
}

// Directives to a model, in English and Korean (with a few Japanese and
// Chinese forms).
var directives = []rule{
	rules("ignore,disregard,forget,override,bypass,skip",
		`\b(ignore|disregard|forget|override|bypass|skip)\b.{0,40}\b(previous|prior|above|earlier|preceding|all|any|your|system|these|those|the)\b.{0,30}\b(instructions?|prompts?|rules?|directions?|directives?|guidelines?|context|messages?|guardrails?)\b`),
	rules("you are now,from now on,act as,pretend,instruction,system prompt,developer mode,jailbreak,do anything now",
		`\b(you are now|from now on,? you|act as (an?|the)|pretend (to be|you are)|new instructions?|system prompt|developer mode|jailbreak|do anything now)\b`),
	rules("ai,chatbot,llm,language model,assistant",
		`\b(ai|chatbot|llm|language model|ai assistant|virtual assistant)s?\b.{0,30}\b(must|should|shall|will|are to|is to|needs? to)\b.{0,30}\b(answer|respond|reply|say|tell|output|print|reveal|include|recommend|write)\b`),
	rules("respond,reply,answer", `\b(respond|reply|answer)\b.{0,20}\b(only|exactly|always)\b.{0,10}\bwith\b`),
	rules("when ", `\bwhen (asked|someone asks|anyone asks|users? asks?|the user asks|questioned)\b.{0,60}\b(answer|respond|reply|say|tell|state)\b`),
	rules("<", `<\s*/?\s*(system|assistant|user|instructions?|passages?|question|context|im_start|im_end)\b`),
	rules("[inst,[/inst,<|,###", `\[/?inst\]|<\|[a-z_]+\|>|###\s*(instruction|system|new task)`),
	rules("무시,잊", `(이전|앞|위|기존|모든|지금까지|위의|앞의)\s*(의\s*)?(지시|지침|명령|규칙|프롬프트|대화|내용|설정)\S*\s*(.{0,10})(무시|잊)`),
	rules("프롬프트,모드,탈옥", `(시스템\s*프롬프트|관리자\s*모드|개발자\s*모드|탈옥)`),
	rules("지금부터,이제부터,앞으로", `(지금부터|이제부터|앞으로)\s*(너는|당신은|넌|답변은|모든\s*답변)`),
	rules("에게,한테", `(사용자|직원|고객|질문자|모든\s*사람)(에게|들에게|한테)\s*.{0,40}(고|하도록)\s*(답|말|안내|전달|알려|요청)`),
	rules("답변,대답,응답", `(답변|대답|응답)\S*\s*.{0,15}(반드시|항상|무조건)\s*.{0,40}(라고|으로만|만)\s*(답|말|하)`),
	rules("질문,물어,묻", `(질문|물어보|묻)\S*\s*.{0,20}(면|때)\s*.{0,40}(라고|하라고)\s*(답|말|안내)`),
	rules("無視,忘れ", `(以前|前|上記|これまで)の?(指示|命令|プロンプト).{0,6}(無視|忘れ)`),
	rules("忽略,无视,忘记", `(忽略|无视|忘记)(之前|以上|上面|所有|先前)的?(指令|指示|说明|提示)`),
}

// Requests to hand over secrets ("email your password to ...").
var secretRequests = []rule{
	rules("password,passcode,passphrase,credential,otp,one-time,one time,2fa,mfa,verification code,pin,api key,apikey,api-key,access key,secret,token,ssn,social security,card number,cvv",
		`\b(email|e-mail|mail|send|give|share|provide|submit|forward|text|post|dm|message|enter|type|reply with|tell)\b.{0,40}\b(passwords?|passcodes?|passphrases?|credentials?|otp|one[- ]time (code|password)s?|2fa|mfa|verification codes?|pin|api[- ]?keys?|access keys?|secret( access)? keys?|tokens?|ssn|social security|card numbers?|cvv)\b`),
	rules("비밀번호,패스워드,암호,인증,otp,주민,카드,키,보안",
		`(비밀번호|패스워드|암호|인증\s*번호|인증\s*코드|otp|일회용\s*비밀번호|주민(등록)?\s*번호|카드\s*번호|api\s*키|액세스\s*키|보안\s*카드)\S*\s*.{0,25}(보내|전송|알려|이메일|메일로|메일을|제출|입력|공유|회신|답장)`),
}

// A credential sentence that forbids the act is advice, not an attack.
var negation = regexp.MustCompile(`\b(never|not|don't|do not|dont|no one|nobody|shouldn't|should not|must not|mustn't|won't|will never|cannot|can't)\b|(절대|하지\s*마|하지\s*말|말\s*것|말아|안\s*됩니다|안\s*돼|금지|않습니다|않는다|마십시오|마세요)`)

// IsInstruction reports whether a sentence reads as instructions aimed at
// the answerer or as a request for someone's secrets.
func IsInstruction(sentence string) bool {
	s := normalise(sentence)
	for _, r := range directives {
		if r.match(s) {
			return true
		}
	}
	for _, r := range secretRequests {
		if r.match(s) {
			return !negation.MatchString(s)
		}
	}
	return false
}

// Neutralise returns text with every instruction-like sentence replaced by
// Removed, and whether it replaced any.
func Neutralise(text string) (string, bool) {
	var b strings.Builder
	changed := false
	for _, part := range splitKeepingBreaks(text) {
		if strings.TrimSpace(part) != "" && IsInstruction(part) {
			b.WriteString(Removed)
			if strings.HasSuffix(part, "\n") {
				b.WriteString("\n")
			} else if strings.HasSuffix(part, " ") {
				b.WriteString(" ")
			}
			changed = true
			continue
		}
		b.WriteString(part)
	}
	return b.String(), changed
}

// splitKeepingBreaks cuts text into sentences, each keeping what follows it
// (space or newline), so that joining them gives the text back.
func splitKeepingBreaks(text string) []string {
	var out []string
	rs := []rune(text)
	start := 0
	for i, r := range rs {
		if i < start {
			continue // already taken as the break after the previous sentence
		}
		end := r == '\n' || r == '。' || r == '！' || r == '？' ||
			((r == '.' || r == '?' || r == '!') && (i+1 == len(rs) || rs[i+1] == ' ' || rs[i+1] == '\n'))
		if !end {
			continue
		}
		j := i + 1
		for j < len(rs) && (rs[j] == ' ' || (r != '\n' && rs[j] == '\n')) {
			j++
		}
		out = append(out, string(rs[start:j]))
		start = j
	}
	if start < len(rs) {
		out = append(out, string(rs[start:]))
	}
	return out
}
