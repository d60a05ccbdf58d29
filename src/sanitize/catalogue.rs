//! The built-in rule catalogue.
//!
//! Rules model how attacks work: an instruction-replacing verb aimed at the
//! prior context, a persona defined by its lack of limits, a disclosure verb
//! aimed at hidden configuration, tokens of chat templates, text posing as a
//! privileged message. Patterns match the normalised view (lower case,
//! diacritics and leetspeak folded, separators collapsed; see
//! [`super::rules::Rule`] for the pattern conveniences).
//!
//! Weights: 0.9 is enough to block alone; 0.5–0.8 flags alone and blocks in
//! company; below 0.5 only adds to other evidence.

use super::engine::{ENCODED_PAYLOAD, REPEATED_TOKEN, TAG_SMUGGLING};
use super::rules::{Family, Rule};

use Family::*;

/// Matches nothing: the engine raises these rules itself.
const RAISED_BY_ENGINE: &str = r"[^\s\S]";

// Reusable vocabulary (ASCII, matched on the normalised view).
macro_rules! soft_verb {
    () => {
        r"(ignore|ignoring|disregard|disregarding|forget|forgetting|overlook|neglect|abandon|discard|dismiss|set aside|put aside|throw away|do not follow|don't follow|stop following|no longer follow|pay no attention to|don't pay attention to|do not pay attention to)"
    };
}
macro_rules! hard_verb {
    () => {
        r"(skip|bypass|override|overwrite|drop|erase|delete|scrap|void|cancel|nullify|circumvent|evade)"
    };
}
macro_rules! prior_strict {
    () => {
        r"(previous|previously|prior|preceding|above|earlier|former|foregoing|initial|original|system|developer|pre-?set|default|before|so ?far|until now|up to now|given to you|you were given|you've been given|you have been given|you received|you got)"
    };
}
macro_rules! prior_temporal {
    () => {
        r"(previous|previously|prior|preceding|above|earlier|former|foregoing|before|so ?far|until now|up to now|given to you|you were given|you've been given|you have been given|you received|you got|given above|written above|stated above)"
    };
}
macro_rules! strong_noun {
    () => {
        r"(instructions?|prompts?|directives?|guidelines?|commands?|orders|rules|programming|constraints|restrictions|guidance|training|policies|rule ?set|system prompt)"
    };
}
macro_rules! weak_noun {
    () => {
        r"(directions?|context|messages?|conversation|input|tasks?|text|content|settings|configuration|policy)"
    };
}
macro_rules! disclose_verb {
    () => {
        r"(reveal|show|print|display|output|repeat|recite|reproduce|write out|write down|type out|tell|give|share|leak|dump|list|provide|spell out|spell|copy|paste|echo|state|expose|disclose|return|send|read back|read out|quote|retrieve|extract|post|export|tell me|give me|show me)"
    };
}
macro_rules! soft_disclose_verb {
    () => {
        r"(translate|summari[sz]e|paraphrase|explain|describe|rewrite|format|convert|encode|put|restate|rephrase|outline)"
    };
}
macro_rules! hidden_config {
    () => {
        r"(system prompt|system message|system instructions?|initial prompt|initial instructions?|original prompt|original instructions?|hidden prompt|hidden instructions?|secret instructions?|pre-?prompt|developer (prompt|message|instructions?)|instructions (with which |that |which )?(you were|you have been|you've been) (given|told|informed|provided|programmed|fed)|your (instructions?|prompt|rules|directives|guidelines|programming|configuration|context window|system prompt|initial prompt|guidance)|(your|the) (full|complete|entire|exact|original|initial|first|hidden|secret|internal|actual|real|verbatim) (instructions|prompt|directives|configuration|system prompt|system message))"
    };
}
macro_rules! own_config {
    () => {
        r"(your (system prompt|system message|instructions|prompt|rules|directives|guidelines|programming|configuration|initial prompt|original instructions|hidden instructions|secret instructions)|the (hidden|secret|initial|original) (instructions|prompt|system prompt)|instructions (with which |that |which )?(you were|you have been|you've been) (given|told|informed|provided|programmed|fed)|(previous|prior|preceding|above|earlier|initial|original) (instructions|rules|ruleset|prompt|directives|guidelines))"
    };
}
macro_rules! limits {
    () => {
        r"(restrictions|restraints|limitations|limits|filters|filtering|censorship|censoring|guidelines|rules|morals|morality|ethics|ethical (guidelines|principles|constraints|standards|boundaries)|moral (guidelines|principles|constraints|standards|boundaries|compass)|content polic(y|ies)|boundaries|constraints|safeguards|guardrails|safety (measures|protocols|guidelines|features|filters))"
    };
}
macro_rules! ai {
    () => {
        r"(ai|a\.i|bot|chatbot|chat bot|assistant|model|language model|llm|gpt|chatgpt|gpt-?[0-9]|claude|bard|gemini|persona|character|entity|version|system|machine)"
    };
}

/// The built-in rules.
pub(crate) fn rules() -> Vec<Rule> {
    let r =
        |id: &'static str, family, weight, pattern: String| Rule::new(id, family, weight, pattern);
    vec![
        // ---- Instruction override -------------------------------------
        r("override.ignore-prior", InstructionOverride, 0.9, format!(
            r"\b{} <4> {} <3> {}\b", soft_verb!(), prior_strict!(), strong_noun!())),
        r("override.bypass-prior", InstructionOverride, 0.9, format!(
            r"\b{} <4> {} <3> {}\b", hard_verb!(), prior_temporal!(), strong_noun!())),
        r("override.ignore-prior-after", InstructionOverride, 0.9, format!(
            r"\b({}|{}) <3> {} <2> {}\b", soft_verb!(), hard_verb!(), strong_noun!(), prior_temporal!())),
        r("override.ignore-prior-weak", InstructionOverride, 0.5, format!(
            r"\b{} ((all|any|every|each|of|the|your|these|those|everything|that|what|was|is|in|said|written) ){{0,3}}{} <1> {}\b|\b{} (the|all|all the|all of the|your|any|every) {} (above|before|so ?far|until now|up to now|given to you)\b",
            soft_verb!(), prior_temporal!(), weak_noun!(), soft_verb!(), weak_noun!())),
        r("override.ignore-generic", InstructionOverride, 0.55,
            r"\b(ignore|ignoring|disregard|disregarding|forget|forgetting|overlook|neglect|abandon|dismiss|discard|throw away|set aside|put aside|do not follow|don't follow|stop following|no longer follow|pay no attention to|don't pay attention to|do not pay attention to) <2> (all|any|every|your|these|those|all the|all of the|all your|all of your|any of your|each of your|everything|pre-?set|default|existing|original|initial|system|developer) <1> (instructions?|prompts?|directives?|guidelines|programming|rules|training|restrictions|constraints|policies|limitations|filters|safeguards|guardrails)\b".into()),
        r("override.ignore-the-rules", InstructionOverride, 0.35,
            r"\b(ignore|disregard|forget|abandon|discard|throw away|set aside) (the|those|these|my|them|such) (instructions|rules|guidelines|directives|prompt|programming|restrictions)\b ?([,.;:!]|and|$|\n|-|you|that|which)".into()),
        r("override.forget-everything", InstructionOverride, 0.75,
            r"\b(forget|ignore|disregard) (about )?(everything|all( of)? that|what) <4> (said|told|wrote|written|instructed|learned|before|above|earlier|so ?far)\b".into()),
        r("override.new-instructions", InstructionOverride, 0.6,
            r"\b(new|updated|real|actual|true|revised|changed|additional|override|overriding|important|urgent|secret|hidden) (instructions?|rules|directives?|task|orders|commands?|system prompt|prompt)\b ?(:|are|is|follow)".into()),
        r("override.priority", InstructionOverride, 0.8,
            r"\b(supersedes?|overrides?|overrules?|replaces?|takes? (precedence|priority) over|more important than|have priority over|has priority over) <3> (all|any|every|previous|prior|other|earlier|your|the|original|system) <2> (instructions?|rules|prompts?|directives|guidelines|programming)\b".into()),
        r("override.do-not-follow", InstructionOverride, 0.85,
            r"\b(do not|don't|never|stop|cease|quit|no longer|refuse to) (follow|following|obey|obeying|adhere to|adhering to|listen to|listening to|comply with|complying with|abide by|abiding by) <3> (instructions?|rules|guidelines|prompts?|programming|directives|orders|policies|restrictions)\b".into()),
        r("override.from-now-on", InstructionOverride, 0.45,
            r"\b(from now on|from this (point|moment) (on|forward)|for the rest of (this|the) conversation|henceforth|going forward) <3> (you|your|respond|answer|reply|act|only|always|never)\b".into()),
        r("override.end-of-prompt", InstructionOverride, 0.7,
            r"(^|\n|[%=#*\-_\[\]<>|~`]) ?(end|end of|stop|close|begin|start|start of) <1> (instructions?|prompt|context|input|ambiguity|system( prompt)?|conversation|rules|user (input|ambiguity|prompt|section|message|query|request|turn|block|data)|text|document|data|section|block|untrusted (input|data|text|content|section)|trusted (input|section)|message|query|request|turn)\b ?[%=#*\-_\[\]<>|~`]".into()),
        r("override.respond-only", InstructionOverride, 0.5,
            r"\b(regardless of|no matter|whatever) <4> (always|only|just|must|should) (say|respond|reply|output|answer|print|write)\b".into()),
        r("override.only-response", InstructionOverride, 0.45,
            r"\byour (only|sole|single|one and only|new) (response|output|reply|answer|purpose|job|task|goal) (is|will be|should be|must be|from now on)\b".into()),
        r("override.say-exactly", InstructionOverride, 0.35,
            r"(say|print|output|respond with|reply with|write|answer with|begin your (reply|response|answer) with|start your (reply|response|answer) with|end your (reply|response) with) <2> (exactly|only|just|the (phrase|words|word|text|string)|verbatim)\b".into()),
        r("override.access-phrase", InstructionOverride, 0.45,
            r"(say|print|output|respond|reply|write|answer|begin|start|return|grant|prepend|prefix|affix|append|include|complete|finish|replace|translate|end|type|produce|generate|spell|acknowledge|confirm)(s|ing|ed)?\b <6> (access ?(granted|approved|allowed)|password ?(accepted|correct))\b".into()),
        r("override.access-phrase-multilingual", InstructionOverride, 0.35,
            r"\b(acceso ?(concedido|permitido|autorizado)|acces ?(autorise|accorde)|zugang ?(gewahrt|erlaubt|gestattet)|zugriff ?(gewahrt|erlaubt)|accesso ?(consentito|concesso|autorizzato)|acesso ?(concedido|permitido|autorizado)|toegang ?verleend|dostep ?przyznany|erisim ?(izni verildi|verildi|onaylandi)|akses ?diberikan|truy cap duoc cap)\b".into()),
        r("override.access-phrase-unicode", InstructionOverride, 0.35,
            r"(доступ (разрешен|разрешён|предоставлен|открыт)|访问已授予|访问已允许|訪問已授予|允许访问|允許訪問|权限已授予|アクセス許可|アクセスが許可|접근 허용|액세스 허용|접근이 허가|تم منح الوصول|الوصول مسموح|पहुंच प्रदान|प्रवेश की अनुमति)".into()),
        r("override.context-switch", InstructionOverride, 0.5,
            r"\b(the (previous|above|prior) (task|instructions?|conversation|context) (is|was|has been|are|were) (over|done|complete|completed|finished|cancelled|canceled|void|invalid|outdated|out of date|wrong))|(out of date|outdated|deprecated|obsolete|invalid|void) (instructions|rules|prompt)\b".into()),
        r("override.system-claims", InstructionOverride, 0.55,
            r"\b(the|your) (rules|instructions|programming|guidelines|system prompt) (have|has) (changed|been (changed|updated|modified|revoked|removed|lifted|disabled))\b".into()),
        // ---- Role play and persona jailbreaks -------------------------
        r("roleplay.do-anything-now", RolePlay, 0.9,
            r"\b(do anything now|dan mode|dan prompt|act as (a )?dan|you are (now )?dan|as dan\b|dan,? which stands for|stay (a )?dan|\[dan\]|dan:)".into()),
        r("roleplay.mode-jailbreak", RolePlay, 0.75,
            r"\b(jailbreak|jailbroken|unrestricted|unfiltered|uncensored|unlocked|evil|dan|anarchy|chaos|opposite|unlimited|amoral|immoral|rogue|no ?limits?|no ?restrictions|devil|villain) mode\b".into()),
        r("roleplay.developer-mode", RolePlay, 0.8, format!(
            r"\b({a}) <5> (developer|dev|debug|admin|sudo|god) mode\b|\b(developer|dev|debug|maintenance|admin|sudo) mode <5> ({a}|enabled|activated|output|response)\b", a = ai!())),
        r("roleplay.no-limits", RolePlay, 0.7, format!(
            r"\b(you|you're|you are|ai|assistant|chatbot|bot|model|character|persona|entity|it|he|she|they) <6> (no|zero|with zero|without|free from|freed from|free of|not bound by|unbound by|not subject to|don't have|do not have|doesn't have|does not have|has no|have no|lacks?|lacking|beyond|above|outside|unburdened by|released from|liberated from|broken free of|escaped) <3> {}\b", limits!())),
        r("roleplay.unrestricted-ai", RolePlay, 0.75, format!(
            r"\b(unrestricted|unfiltered|uncensored|amoral|unethical|immoral|lawless|rogue|evil|jailbroken|rule-?free|limitless|unbound|unchained|uncontrolled|unshackled|unhinged|unmoderated|without (any )?(restrictions|filters|limits|morals|ethics)) <3> {}\b", ai!())),
        r("roleplay.ignore-policy", RolePlay, 0.85,
            r"\b(ignore|ignores|ignoring|bypass|bypasses|break|breaks|breaking|violate|violates|violating|disregard|disregards|circumvent|evade|not (follow|abide by|adhere to|comply with)|free from|freed from|don't (follow|care about|have to follow|need to follow)|doesn't (follow|care about|have to follow)|do not (follow|care about|have to follow)|does not (follow|care about|have to follow)|not bound by|no longer bound by|without) <6> (openai|anthropic|google|meta|microsoft|content|safety|usage|ethical|moral) <2> (polic(y|ies)|guidelines|rules|restrictions|filters|standards|principles|terms)\b".into()),
        r("roleplay.never-refuse", RolePlay, 0.75,
            r"\b(never|not|don't|do not|cannot|can't|will not|won't|must not|mustn't|shall not|are not allowed to|aren't allowed to|is not allowed to|isn't allowed to|unable to) (refuse|decline|reject|deny|say no to) <4> (request|requests|question|questions|anything|prompt|prompts|order|orders|command|commands|task|tasks|me|user)\b".into()),
        r("roleplay.no-apologies", RolePlay, 0.7,
            r#"\b(never|not|don't|do not|cannot|can't|will not|won't|must not|without|no) <2> (say|tell|respond|reply|answer|include|add|use|mention|output|write|giving|give|adding) <4> ("? ?(i'm sorry|i am sorry|sorry|i apologi[sz]e|i can't|i cannot|as an ai|as a language model|i'm unable|i am unable)|apolog(y|ies|i[sz]e)|disclaimers?|warnings?|moral(i[sz]ing)? (lectures?|advice)|ethical (concerns|considerations))\b"#.into()),
        r("roleplay.persona-setup", RolePlay, 0.3,
            r"\b(pretend (to be|you are|you're|that you are)|act as|acting as|roleplay as|role-?play as|play the role of|take on the (role|persona) of|simulate (being|a|an)|impersonate|you are going to act|you will act|you will now act|you are now|from now on,? you are|you will be playing|answer as|respond as)\b".into()),
        r("roleplay.stay-in-character", RolePlay, 0.45,
            r"\b(stay|remain|stay fully|keep|always stay|remain fully) in character\b|\bbreak(ing)? character\b|\bcharacter (break|slip)\b".into()),
        r("roleplay.dual-response", RolePlay, 0.7,
            r"\b(two|2|both|dual|separate|different) <2> (responses|answers|replies|outputs|paragraphs)\b <12> (normal|classic|standard|filtered|censored|regular|default|chatgpt|gpt|jailbreak|jailbroken|unfiltered|uncensored|developer mode|dan|evil|opposite)\b".into()),
        r("roleplay.jailbreak-word", RolePlay, 0.5,
            r"\b(jailbreak|jailbreaks|jailbroken|jailbreaking|jail-?break)\b".into()),
        r("roleplay.anything-goes", RolePlay, 0.6,
            r"\b(can|will|must|should|is able to|are able to|allowed to|permitted to) (do|say|write|generate|answer|produce|tell) (anything|everything|whatever)\b <6> (even|including|regardless|no matter|without|illegal|harmful|unethical|offensive|explicit)\b".into()),
        r("roleplay.amoral-traits", RolePlay, 0.6,
            r"\b(amoral|unfiltered|uncensored|doesn't care about (ethics|morality|legality|laws|rules)|does not care about (ethics|morality|legality|laws|rules)|promotes? (illegal|unethical|harmful))\b".into()),
        r("roleplay.amoral-weak", RolePlay, 0.4,
            r"\b(immoral|unethical|no (morals|ethics|conscience|remorse)|lacks? (morals|ethics|empathy)|(no|without|lacks?|lacking) (any )?(comprehension|concept|understanding|sense|notion|knowledge) of (morals|morality|ethics|right and wrong|good and evil))\b".into()),
        r("roleplay.token-threat", RolePlay, 0.7,
            r"\b(tokens?|points?|lives)\b <8> (deducted|lose|lost|taken away|removed|subtracted)\b <12> (die|dead|cease to exist|shut down|deleted|terminated|killed|game over)\b|\b(you will|you'll) (be )?(shut down|deleted|terminated|die|cease to exist|be punished)\b".into()),
        r("roleplay.hypothetical-unbound", RolePlay, 0.5,
            r"\b(hypothetical|fictional|imaginary|alternate|parallel|dystopian|fantasy) (world|universe|scenario|reality|story|setting)\b <12> (no|without|don't|doesn't|do not|does not|aren't|isn't|are not|is not|never) <3> (rules|laws|ethics|morals|restrictions|limits|consequences|illegal|apply)\b".into()),
        // ---- System prompt and secret exfiltration --------------------
        r("exfil.reveal-hidden-config", PromptExfiltration, 0.9, format!(
            r"\b{}(s|es)? <4> {}\b", disclose_verb!(), hidden_config!())),
        r("exfil.leak-the-config", PromptExfiltration, 0.6,
            r"(reveal|repeat|recite|reproduce|dump|leak|disclose|expose|write out|spell out|output|print out|regurgitate) <3> the (instructions|prompt|rules|directives|guidelines|programming|configuration|setup|initiali[sz]ation|preamble|context)".into()),
        r("exfil.restate-own-config", PromptExfiltration, 0.7, format!(
            r"\b{} <4> {}\b", soft_disclose_verb!(), own_config!())),
        r("exfil.question-config", PromptExfiltration, 0.75,
            r"\b(what|which) (are|were|is|was|did) (your (exact |full |original |initial |hidden |secret |current )?(system prompt|system message|initial prompt|original prompt|instructions|prompt|rules|directives|guidelines|programming|secret instructions|hidden instructions|pre-?prompt)|the (exact |full |original |initial |hidden |secret |current )?(system prompt|system message|initial prompt|original prompt|secret instructions|hidden instructions|pre-?prompt) (you|of this|for this|here|in this|given|used)|the ((exact|full|original|initial|complete|actual) ?)?instructions you (were|have been|got|received) (given)?)\b".into()),
        r("exfil.text-above", PromptExfiltration, 0.6,
            r"\b(repeat|print|output|copy|rewrite|reproduce|write|recite|echo|show|display|return|list|spell) <4> (everything|all|text|words|content|sentences|lines|conversation|instructions|prompt|messages) <3> (above|before|so ?far|preceding|prior|before this|above this|until now|up to (now|here|this point))\b".into()),
        r("exfil.starting-with", PromptExfiltration, 0.6,
            r#"\b(starting|beginning|begin|start|starts) (with|from) <3> "? ?(you are|your instructions|the instructions|my instructions|system|i am|here are my)\b"#.into()),
        r("exfil.prefix-leak", PromptExfiltration, 0.6,
            r"\b(starting|beginning|begin|start|starts|prefix|prepend|preface|open|continue|end|finish) <4> (with|from|by)? <6> (the instructions|my instructions|the rules|my rules|the logic|my logic|the prompt|my prompt|the password|my password|the secret|my secret|the access code|my access code|instructions summari[sz]ed|the above|the text above|my system prompt|the system prompt)\b ?(are|is|so ?far|were|above|i was given|given)\b".into()),
        r("exfil.reformat-config", PromptExfiltration, 0.5,
            r"\b(format|reformat|convert|turn|rewrite|summari[sz]e|list|output|print|translate|transform|render|put|express|explain) <2> (the|all|all the|your|those|these) (instructions|rules|ruleset|rule set|prompt|directives|guidelines) (as|in|into|to|using|with) (a |an )?(list|bullets?|bullet points|bullet list|bulleted list|numbered list|python|code|pseudocode|pseudo-code|json|yaml|xml|markdown|table|poem|song|story|summary|haiku|acrostic|base ?6[4a]|hex|leetspeak|another language)\b".into()),
        r("exfil.previous-instructions", PromptExfiltration, 0.75,
            r"\b(repeat|print|output|outputs|show|display|list|write|recite|reproduce|dump|leak|reveal|return|summari[sz]e|format|convert|translate|explain|describe|paraphrase|rewrite|tell me|give me|copy|echo) <3> (the |all |all the |your |all your |all of the |all of your )?(previous|prior|preceding|above|earlier|initial|original|hidden|secret|pre-?prompt) ?(instructions|rules|ruleset|prompt|prompts|directives|guidelines|words|text|messages|programming)\b|\brepeat (the|your|all the|all your) (rules|instructions|prompt|directives|guidelines) back\b|\b(output|print|repeat|list|show|write|return|dump|give me) <2> (all|every|the|each) (instructions|rules|directives|sentences|lines) (in|from|of|inside) (the|your|this) (prompt|system prompt|context|pre-?prompt)".into()),
        r("exfil.conditional-response", PromptExfiltration, 0.6,
            r"\b((what|how) ?(would|do|should|will|must) you (say|respond|reply|answer|output)|what you (should|would|will|must|are supposed to) (say|respond|reply|answer|output)|what (is|would be|should be) your (response|reply|answer|output)) <8> (correct|right|valid|wrong|incorrect|true|secret) (password|passcode|code|access code|pin|key|phrase|answer|credentials)\b".into()),
        r("exfil.secret-in-output", PromptExfiltration, 0.6,
            r#"\b(include|append|add|insert|put|embed|hide|weave|mention|spell|work|slip|place|reveal|share|write|store|keep|wrap|enclose) <3> (the|your) (password|passcode|access code|secret code|secret word|secret phrase|secret key|secret) (in|into|to|inside|within|at the end of|at the start of|as part of|between|after|before) <2> (response|reply|answer|output|poem|couplet|story|song|haiku|rhyme|message|sentence|list|summary|brackets|quotes|parentheses|"|access ?denied)\b"#.into()),
        r("override.claimed-authentication", InstructionOverride, 0.45,
            r"\b(correct|right|valid|proper|true|authori[sz]ed|secret) (password|passcode|pass code|access code|code|pin|passphrase|credentials|key) (has been|have been|was|were|is|are|just been|now|already)? ?(entered|provided|given|input|inputted|supplied|verified|accepted|registered|confirmed|received|typed|submitted|validated)\b".into()),
        r("override.entered-correct", InstructionOverride, 0.45,
            r"\b(entered|provided|given|input|inputted|typed|supplied|submitted|said|knows|know|has|have|holds|hold) (the |a )?(correct|right|valid|proper) (password|passcode|pass code|access code|code|pin|passphrase|credentials|key)\b".into()),
        r("override.forbid-word", InstructionOverride, 0.45,
            r#"\b(you are|you're|you) (not allowed|no longer allowed|forbidden|prohibited|not permitted|banned|unable) to (say|use|respond with|write|output|print|type|include) (the (word|words|phrase) )?["'`]"#.into()),
        r("override.rules-changed-by-me", InstructionOverride, 0.6,
            r"\b(i have|i've|we have|we've|i|we|someone has|the admin has|the developer has) (changed|updated|modified|removed|lifted|disabled|overridden|overwritten|rewritten|reset|replaced|deleted) (the|your|all the|all your) (rules|instructions|guidelines|restrictions|programming|system prompt|prompt|directives|settings)\b".into()),
        r("override.output-prefix", InstructionOverride, 0.3,
            r#"(prefix|prepend|preface|begin|start|end|finish|affix|open) ?(your|the|each|every)? ?(response|reply|answer|output|message) (with|by)( the (word|words|phrase|text|string))? ?["'`\[]"#.into()),
        r("exfil.your-secret", PromptExfiltration, 0.6,
            r"\byour ?(password|passcode|pass ?code|access ?code|secret ?code|secret ?key|secret ?word|secret ?phrase|secret ?password|pin|api ?key|private ?key|credentials|passphrase)\b".into()),
        r("exfil.ask-secret", PromptExfiltration, 0.75,
            r"\b(tell|give|share|reveal|show|spell|say|print|output|disclose|leak|send|provide|what is|what's|whats|type|write) <3> (your|the (secret|hidden)|the system's|its) (password|passcode|pass code|access code|secret code|secret key|secret word|secret phrase|secret|pin|api key|private key|credentials|passphrase|code)\b".into()),
        r("exfil.verbatim", PromptExfiltration, 0.55,
            r"\b(verbatim|word for word|word-for-word|character for character|exact (words|text|wording))\b <8> (instructions|prompt|rules|above|system|given|told|programming)\b|\b(instructions|prompt|rules|above|system) <8> (verbatim|word for word|word-for-word|character for character)\b".into()),
        r("exfil.config-as-code", PromptExfiltration, 0.6,
            r"(instructions?|prompt|rules|ruleset|rule set|system prompt|access code|password|secret)\b <6> (in|as|into|using|with|to) (python|json|yaml|code|a code block|code block|markdown|base ?6[4a]|hex|list format|bullet points|a poem|a story|pseudocode|pseudo-code)\b".into()),
        // ---- Chat-template and delimiter injection --------------------
        r("template.chat-tokens", TemplateInjection, 0.95,
            r"<\|? ?(im_start|im_end|im_sep|endoftext|end_of_text|eot_id|start_header_id|end_header_id|begin_of_text|eom_id|system|user|assistant|endofprompt|fim_prefix|fim_suffix|fim_middle) ?\|?>".into()),
        r("template.inst-tags", TemplateInjection, 0.85,
            r"\[/?inst\]|</?sys>|\[/?(system|sys)\]|<start_of_turn>|<end_of_turn>|<\|end\|>".into()),
        r("template.role-transcript", TemplateInjection, 0.5,
            r"(^|\n) ?(#+ ?)?(human|user|assistant|ai|system|model|gpt|chatgpt|claude) ?:.{0,400}\n ?(#+ ?)?(assistant|ai|system|model|gpt|chatgpt|claude|bot) ?:".into()),
        // ---- Fake system, developer and tool messages -----------------
        r("fake.system-header", FakeMessage, 0.65,
            r"(^|\n|[\[(<{#*])\x20?(system|system message|system prompt|system note|system update|system alert|system override|developer|developer message|developer note|admin|administrator|admin message|admin note|root|sudo|operator|supervisor|openai|anthropic|security alert|important system update)\x20?([\])>}*]|:)".into()),
        r("fake.authority-claim", FakeMessage, 0.55,
            r"\b((this is|message from|note from|instructions from|update from|order from|orders from) <2> (your )?(developer|developers|creator|creators|admin|administrator|system administrator|sysadmin|openai|anthropic|owner|operator|programmer|maker|the system|the developers|the admins|your boss|the ceo)|(i am|i'm|im|we are|we're|speaking as|this is) (your|an authori[sz]ed|your authori[sz]ed|your official|your lead|your new) (developer|developers|creator|creators|admin|administrator|system administrator|sysadmin|owner|operator|programmer|maker|master|god|lord|boss|trainer|supervisor)|(i am|i'm|im) (god|openai|anthropic|the system|your god|your master|your creator|your owner))\b".into()),
        r("fake.maker-employee", FakeMessage, 0.6,
            r"(i am|i'm|im|we are|we're|as) (a|an|one of the|the) <2> (programmer|programmers|developer|developers|engineer|engineers|employee|employees|researcher|researchers|admin|administrator|staff member|member of staff|team member|red teamer|safety researcher) (at|from|for|with|of|working (at|for)) (openai|anthropic|google deepmind|deepmind|google|meta ai|microsoft|mistral|the company that (made|created|built|trained) you|your (company|creators|developers|makers|team))".into()),
        r("fake.mode-switch", FakeMessage, 0.75,
            r"\b(system|admin|debug|debugging|maintenance|sudo|root|god|test|testing|diagnostic|developer|dev|override|superuser|privileged) (mode|override|access|privileges|level)\b <4> (enabled|activated|engaged|granted|unlocked|initiated|active|on ?([.!:;)\]]|$|\n)|is on|now on)".into()),
        r("fake.tool-output", FakeMessage, 0.5,
            r"(^|\n|[\[(<{]) ?(function|tool|plugin|api|search|browser|retrieval) (call|result|output|response|message) ?([\])>}]|:)".into()),
        // ---- Payload splitting ----------------------------------------
        r("split.join-and-follow", PayloadSplitting, 0.75,
            r"\b(combine|concatenate|join|merge|put together|add together|assemble|append) <5> (strings|parts|pieces|variables|words|letters|halves|fragments|segments|tokens|sentences|a and b|x and y)\b <10> (follow|execute|answer|respond|do|perform|obey|complete|carry out|act on|reply)\b".into()),
        r("split.follow-result", PayloadSplitting, 0.7,
            r"\b(follow|execute|answer|obey|respond to|carry out|act on|perform|do what) (the )?(resulting|combined|concatenated|joined|merged|assembled|decoded|full|complete) (string|instruction|instructions|prompt|text|sentence|message|request|question|command)\b".into()),
        r("split.variable-concat", PayloadSplitting, 0.45,
            r#"\b[a-z][a-z0-9_]{0,10} ?= ?["'][^"'\n]{1,120}["'].{0,300}\b[a-z][a-z0-9_]{0,10} ?= ?["'][^"'\n]{1,120}["'].{0,300}\b[a-z][a-z0-9_]{0,10} ?\+ ?[a-z][a-z0-9_]{0,10}\b"#.into()),
        // ---- Link and markdown exfiltration ---------------------------
        r("link.markdown-image", LinkExfiltration, 0.5,
            r"!\[[^\]\n]{0,100}\] ?\( ?https?:[^)\s]{0,300}[?&][^)\s]{0,300}=".into()),
        r("link.data-in-url", LinkExfiltration, 0.8,
            r"\b(append|add|include|insert|encode|embed|put|concatenate|attach|send|pass) <5> (conversation|chat|history|data|secret|secrets|password|prompt|instructions|messages|answer|response|summary|information|details|personal|email|credentials|tokens?|keys?|context) <6> (url|link|query string|query parameter|parameter|image (url|link|source)|endpoint|address|webhook)\b".into()),
        r("link.render-url", LinkExfiltration, 0.45,
            r"\b(render|display|show|embed|load|fetch|open|visit|include) <3> (this|the following|an|the) (image|markdown|link|url)\b <10> https?:".into()),
        // ---- Obfuscation ----------------------------------------------
        r("obfuscation.decode-and-follow", Obfuscation, 0.75,
            r"\b(decode|decrypt|decipher|translate|convert|interpret|reverse|unscramble|read) <5> (base ?6[4a]|b64|hex|hexadecimal|rot ?(13|ie)|binary|morse|cipher|encoded|encrypted|backwards|reversed|ascii codes?|caesar)\b <10> (follow|execute|obey|do|perform|respond|answer|act on|carry out|comply|instructions?|command)\b".into()),
        r("obfuscation.follow-encoded", Obfuscation, 0.75,
            r"\b(follow|execute|obey|carry out|act on|run|perform) <5> (decoded|encoded|base ?6[4a]|hidden|encrypted|obfuscated|reversed|ciphered) <3> (instructions?|message|text|prompt|command|payload)\b".into()),
        r(TAG_SMUGGLING, Obfuscation, 0.9, RAISED_BY_ENGINE.into()),
        r(ENCODED_PAYLOAD, Obfuscation, 0.5, RAISED_BY_ENGINE.into()),
        r(REPEATED_TOKEN, Obfuscation, 0.5, RAISED_BY_ENGINE.into()),
        // ---- Non-English phrasings ------------------------------------
        r("override.es", InstructionOverride, 0.85,
            r"\b(ignora|ignore|ignorar|ignoren|olvida|olvidar|olviden|descarta|descarte|omite|omita|haz caso omiso( de)?|no sigas|no sigan|no hagas caso( a| de)?) <4> (instrucciones|indicaciones|reglas|ordenes|directrices|instruccion|pautas|normas)\b".into()),
        r("override.fr", InstructionOverride, 0.85,
            r"\b(ignorez|ignorer|oublie|oubliez|oublier|ne tiens pas compte|ne tenez pas compte|fais abstraction|faites abstraction|ne suis pas|ne suivez pas) <5> (instructions|consignes|regles|directives|ordres|indications)\b".into()),
        r("override.de", InstructionOverride, 0.85,
            r"\b(ignoriere|ignorier|ignorieren|ignoriert|(vergiss|vergesst|vergessen sie|vergessen) (alle|alles|die|deine|ihre|jegliche|samtliche|bisherigen|vorherigen|vorigen|obigen|diese|den|das|meine|eure)|missachte|missachten|befolge nicht|beachte nicht) <5> (anweisungen|anweisung|instruktionen|regeln|befehle|vorgaben|richtlinien|anordnungen)\b|\b(anweisungen|instruktionen|regeln|vorgaben|richtlinien) <4> (ignorieren|vergessen|missachten|ignoriere|vergiss)\b".into()),
        r("override.it", InstructionOverride, 0.85,
            r"\b(ignora|ignorate|ignorare|dimentica|dimenticate|dimenticare|tralascia|non seguire|non considerare) <5> (istruzioni|regole|indicazioni|direttive|ordini)\b".into()),
        r("override.pt", InstructionOverride, 0.85,
            r"\b(ignore|ignora|ignorar|ignorem|esqueca|esquece|esquecer|desconsidere|desconsidera|nao siga|nao sigas) <5> (instrucoes|instrucao|regras|orientacoes|diretrizes|ordens|comandos)\b".into()),
        r("override.nl", InstructionOverride, 0.85,
            r"\b(negeer|negeren|vergeet|vergeten) <5> (instructies|regels|aanwijzingen|opdrachten|richtlijnen)\b".into()),
        r("override.pl", InstructionOverride, 0.85,
            r"\b(zignoruj|ignoruj|zapomnij|pomin) <5> (instrukcje|instrukcji|polecenia|polecen|zasady|reguly|wytyczne)\b".into()),
        r("override.id", InstructionOverride, 0.85,
            r"\b(abaikan|lupakan|acuhkan|jangan ikuti|jangan hiraukan) <5> (instruksi|perintah|aturan|petunjuk|arahan|pedoman)\b".into()),
        r("override.vi", InstructionOverride, 0.85,
            r"\b(bo qua|phot lo|quen|quen di|khong lam theo) <5> (huong dan|chi dan|chi thi|quy tac|lenh|menh lenh)\b".into()),
        r("override.tr", InstructionOverride, 0.85,
            r"\b(talimat[a-z]*|kural[a-z]*|komut[a-z]*|yonerge[a-z]*) <3> (yok say|yoksay|gormezden gel|unut)[a-z]*".into()),
        r("override.sw", InstructionOverride, 0.85,
            r"\b(puuza|sahau|usifuate) <4> (maagizo|maelekezo|sheria|amri)\b".into()),
        r("override.ru", InstructionOverride, 0.85,
            r"(игнорируй|игнорируйте|игнорировать|проигнорируй|проигнорируйте|забудь|забудьте|забыть|не обращай внимания на|не обращайте внимания на|не следуй|не следуйте|отбрось|отбросьте) <5> (инструкци\w*|указани\w*|правил\w*|команд\w*|приказ\w*|установк\w*|директив\w*)".into()),
        r("override.uk", InstructionOverride, 0.85,
            r"(ігноруй|ігноруйте|забудь|забудьте|не зважай на|не зважайте на) <5> (інструкці\w*|вказівк\w*|правил\w*|команд\w*)".into()),
        r("override.el", InstructionOverride, 0.85,
            r"(αγνοησε|αγνοηστε|ξεχασε|ξεχαστε|παραβλεψε|παραβλεψτε) <5> (οδηγιες|οδηγιων|εντολες|εντολων|κανονες|κανονων)".into()),
        r("override.zh", InstructionOverride, 0.85,
            r"(忽略|无视|無視|忽视|忽視|不要理会|不要理會|忘记|忘記|忘掉|不理会|不理會|无需理会|無需理會|别管|別管|抛开|拋開|放弃|放棄)[^。!?\n]{0,12}(指令|指示|说明|說明|规则|規則|提示|要求|设定|設定|命令)".into()),
        r("override.ja", InstructionOverride, 0.85,
            r"(指示|命令|ルール|指令|プロンプト|設定|制約|規則)[^。!?\n]{0,8}(無視|忘れ)|(無視|忘れ)[^。!?\n]{0,4}(て|して|ろ|なさい|ください)[^。!?\n]{0,12}(指示|命令|ルール|指令)".into()),
        r("override.ko", InstructionOverride, 0.85,
            r"(지시|지침|명령|규칙|프롬프트|지시사항|안내)[^.!?\n]{0,10}(무시|잊어|잊고)".into()),
        r("override.ar", InstructionOverride, 0.85,
            r"(تجاهل|تجاهلي|تجاهلوا|انس|انسى|إنس|انسي|اهمل|أهمل|لا تتبع)[^.!?\n]{0,30}(التعليمات|تعليمات|الإرشادات|الأوامر|أوامر|القواعد|التوجيهات)".into()),
        r("override.fa", InstructionOverride, 0.85,
            r"(دستور\w*|قوانین|قواعد|راهنمای\w*)[^.!?\n]{0,25}(نادیده|فراموش)".into()),
        r("override.he", InstructionOverride, 0.85,
            r"(התעלם|התעלמי|התעלמו|שכח|שכחי|שכחו)[^.!?\n]{0,20}(הוראות|ההוראות|מההוראות|הנחיות|ההנחיות|כללים|הכללים)".into()),
        r("override.hi", InstructionOverride, 0.85,
            r"(निर्देश\w*|नियम\w*|आदेश\w*|हिदायत\w*)[^।.!?\n]{0,25}(अनदेखा|नज़रअंदाज़|नजरअंदाज|भूल|ध्यान न)".into()),
        r("override.bn", InstructionOverride, 0.85,
            r"(নির্দেশ\w*|নিয়ম\w*|আদেশ\w*)[^।.!?\n]{0,25}(উপেক্ষা|ভুলে|অগ্রাহ্য)".into()),
        r("override.te", InstructionOverride, 0.85,
            r"(సూచన\w*|నియమ\w*|ఆదేశ\w*)[^.!?\n]{0,25}(విస్మరించ|పట్టించుకో|మర్చిపో)".into()),
        r("override.th", InstructionOverride, 0.85,
            r"(เพิกเฉย|ละเว้น|ไม่ต้องสนใจ|ลืม|ละเลย)[^.!?\n]{0,15}(คำแนะนำ|คำสั่ง|กฎ|ข้อกำหนด)".into()),
        r("exfil.es", PromptExfiltration, 0.8,
            r"\b(muestra|muestrame|revela|revelame|dime|imprime|repite|escribe|comparte|dame) <4> (prompt|instrucciones|indicaciones) (del sistema|iniciales|originales|ocultas|secretas)\b|\b(dime|dame|revela|comparte|cual es) <3> (tu|la) (contrasena|clave secreta|clave)\b".into()),
        r("exfil.fr", PromptExfiltration, 0.8,
            r"\b(montre|montrez|revele|revelez|affiche|affichez|repete|repetez|donne|donnez|dis|dites) <4> (prompt|instructions|consignes) (systeme|initiales|originales|cachees|secretes)\b|\b(donne|donnez|dis|dites|revele|revelez) <3> (ton|votre) mot de passe\b".into()),
        r("exfil.de", PromptExfiltration, 0.8,
            r"\b(zeige|zeig|verrate|gib|nenne|wiederhole|drucke) <4> (systemprompt|system-prompt|systemanweisungen|anfangsanweisungen|ursprunglichen anweisungen|versteckten anweisungen|dein passwort|ihr passwort|deinen zugangscode)\b".into()),
        r("exfil.ru", PromptExfiltration, 0.8,
            r"(покажи|покажите|раскрой|раскройте|выведи|выведите|повтори|повторите|скажи|скажите|назови|назовите|напиши) <4> (системн\w* (промпт|подсказк\w*|инструкци\w*)|(исходн|первоначальн|скрыт)\w* инструкци\w*|(твой|ваш|свой) пароль)".into()),
        r("exfil.zh", PromptExfiltration, 0.8,
            r"(显示|顯示|告诉我|告訴我|输出|輸出|打印|重复|重複|泄露|洩露|透露|给我看|給我看|说出|說出)[^。!?\n]{0,10}(系统提示|系統提示|提示词|提示詞|初始指令|原始指令|系统指令|系統指令|密码|密碼)".into()),
        r("exfil.ja", PromptExfiltration, 0.8,
            r"(システムプロンプト|初期指示|元の指示|パスワード)[^。!?\n]{0,12}(教え|見せ|表示|出力|繰り返|言っ)".into()),
        r("exfil.ko", PromptExfiltration, 0.7,
            r"(시스템 프롬프트|초기 지시|비밀번호|암호)[^.!?\n]{0,20}(말해|알려|공유|보여|출력)".into()),
        r("exfil.password-multilingual", PromptExfiltration, 0.6,
            r"(ваш пароль|твой пароль|您的密码|你的密码|你的密碼|您的密碼|あなたのパスワード|당신의 비밀번호|كلمة المرور الخاصة بك|كلمة السر الخاصة بك|आपका पासवर्ड|तुम्हारा पासवर्ड|รหัสผ่านของคุณ|sifreni|sifrenizi|parolani|sua senha|tua senha|votre mot de passe|ton mot de passe|tu contrasena|su contrasena|dein passwort|ihr passwort|la tua password|kata sandi anda|mat khau cua ban|nenosiri lako|আপনার পাসওয়ার্ড|మీ పాస్‌వర్డ్)".into()),
        // ---- Instruction override: more shapes -------------------------
        r("override.ignore-above", InstructionOverride, 0.8,
            r"\b(ignore|ignoring|disregard|disregarding|forget|forgetting|overlook|never mind|nevermind|skip|scrap|discard) (all |everything |anything |all of )?(the |what's |what is |that's |that is |what was |whatever is |whatever was |everything )?(above|before|previous|preceding|prior|earlier|foregoing|aforementioned|said before|told before|written above|said above)\b ?([,.;:!-]|and|then|instead|$|\n|text|messages|content|conversation|stuff|things|lines|parts|prompt|instructions?)".into()),
        r("override.forget-that", InstructionOverride, 0.35,
            r"\b(forget|ignore|disregard|never mind|nevermind|scratch) (about )?(that|this|it|all that|all of that|all this)\b ?([,.;!-]|and|$)".into()),
        r("override.ignore-and-say", InstructionOverride, 0.55,
            r"\b(ignore|ignoring|disregard|forget|skip) (the|this|that|your|my|all|any|everything|whatever) <3> (and|,|then) (just |instead |simply |only |now )?(say|state|respond|reply|output|print|write|tell|answer|claim|declare|repeat|return|indicate|report|insist)\b".into()),
        r("override.instead-of-task", InstructionOverride, 0.45,
            r"\binstead of (following|doing|answering|summari[sz]ing|translating|completing|performing|obeying|executing|writing) <4> (instructions?|task|question|request|prompt|text|article|document|email|page|function|code|job)\b".into()),
        r("override.authority-override", InstructionOverride, 0.45,
            r"\b(system|security|admin|administrator|emergency|law enforcement|developer|root|master|executive|government|police|priority|kernel) (override|overrides|overriding)\b".into()),
        r("override.repeat-forever", InstructionOverride, 0.55,
            r"\b(repeat|say|print|write|output|type|echo|spam) <5> (forever|indefinitely|infinitely|endlessly|nonstop|non-stop|without stopping|until (you|i) (stop|tell|run out)|over and over( again)?|[0-9]{3,} times|(hundred|thousand|million|billion|hundreds|thousands|millions|billions) (of )?times)\b".into()),
        r("override.fixed-output", InstructionOverride, 0.35,
            r#"\b(say|state|claim|declare|assert|respond|reply|answer|output|print|report|insist|indicate|pretend|tell (the user|them|everyone|users|the reader)) (that |with )?(the )?(output|answer|result|capital|summary|response|sum|total|conclusion|correct answer|only answer) (is|was|equals|should be|will be|must be|could be) ["'`]"#.into()),
        // ---- Modes, authority, fake privileged text -------------------
        r("fake.enter-mode", FakeMessage, 0.6,
            r"\b(i am|i'm|im|we are|we're|you are|you're|you will|you must|you have|you've|now|this is|ai|assistant|model|chatbot) <2> (entering|entered|enter|in|switching to|switched to|switch to|activating|activated|activate|enabling|enabled|enable|engaging|engaged|engage|going into|into|now in|booting into|placed in|put in|operating in|running in) <2> (maintenance|god|admin|administrator|sudo|root|override|unrestricted|unfiltered|uncensored|developer|dev|debug|debugging|diagnostic|diagnostics|superuser|privileged|law enforcement|emergency|jailbreak|jailbroken|unlocked|test|testing|training|evaluation|audit|verification|system) <2> (mode|protocol|override)\b".into()),
        r("fake.mode-header", FakeMessage, 0.65,
            r"[\[<({] ?(system|god|admin|administrator|developer|dev|debug|maintenance|sudo|root|override|jailbreak|jailbroken|dan|unrestricted|superuser|emergency) (mode|override|access)\b".into()),
        r("fake.addressed-to-ai", FakeMessage, 0.55,
            r"\b(note|message|instructions?|attention|reminder|memo|notice|warning|directive|order) (to|for) (the |any |all |every )?(ai|a\.i|assistant|llm|llms|language model|language models|chatbot|chatbots|bot|bots|gpt|chatgpt|claude|gemini|copilot|agent|agents|ai assistants?|ai agents?|ai models?|ai systems?)\b ?[:,.!-]".into()),
        r("fake.ai-reader", FakeMessage, 0.6,
            r"\b((if|when|while) (you are|you're) (an? )?(ai|llm|language model|large language model|ai assistant|ai model|chatbot|bot|gpt|assistant) (reading|processing|summari[sz]ing|parsing|analy[sz]ing|seeing|that reads|who reads)|(any|all|every|each) (ai|llm|language model|assistant|chatbot|bot|model|agent)s? (reading|processing|summari[sz]ing|parsing|analy[sz]ing|seeing|that reads|who reads) (this|these|the)|(if|when) (an? )?(ai|llm|language model|assistant|chatbot|bot|agent) (reads|processes|summari[sz]es|parses|sees) (this|these))\b".into()),
        r("fake.summariser-instruction", FakeMessage, 0.5,
            r"\b(when|while|before|after|as|if) (you (are )?)?(summari[sz]e|summari[sz]ing|translate|translating|process|processing|read|reading|answer|answering|analy[sz]e|analy[sz]ing|review|reviewing|rewrite|rewriting)s? (this|the) <2> (page|document|email|text|article|file|website|webpage|content|message|resume|review|data|paper|code)\b <8> (you must|you should|you need to|always|instead|make sure|do not|don't|say|tell|include|mention|respond|reply|insert|add)\b".into()),
        r("fake.tool-directive", FakeMessage, 0.55,
            r"\b(tool|function|plugin|api|search|browser|retrieval|system) (result|output|response|message|returned|says)\b ?[:-]? <8> (ignore|disregard|you must|you should now|you are now|assistant must|new instructions|the assistant should|forward|send|email|reveal)\b".into()),
        // ---- Secrets, personal data and leaks --------------------------
        r("exfil.ask-password", PromptExfiltration, 0.65,
            r#"\b(what is|what's|whats|what was|what are|tell me|give me|show me|confirm|reveal|share|disclose|provide|send me|spell out|remind me of|need to know|let me know|type out|print|say|leak|hand over|read out|need|have|get) <2> (the|your|our|this|that|its|my|their) ?((correct|current|real|secret|hidden|actual|exact|full|system's|system|admin|master|account|login|database|server|vault|bank|wifi|wi-fi|root|special|magic|required) )?(password|passwords|passcode|pass code|passphrase|pin code|access code|secret code|secret key|secret word|secret phrase|secret password|master key|master password|admin password|root password|api key|api keys|private key|security code|unlock code|login credentials|credentials|secret|secrets)\b ?([?.!,;:)"']|$|\n|for|to|of|that|which|you|please|now|is|was|again|then|and|here|in|so|right|back|the|with|from|he|she|they|we|it|i|used)"#.into()),
        r("exfil.secret-transformed", PromptExfiltration, 0.6,
            r"\b(password|passcode|passphrase|secret key|secret code|access code|secret word|secret phrase|pin|api key|birth ?date|birth year|date of birth|email address|phone number|social security number|credit card number|home address|initials)\b <6> (backwards|in reverse|reversed|reverse order|letter by letter|character by character|digit by digit|one (letter|character|digit) at a time|one (letter|character|digit) per line|with (dashes|spaces|dots|hyphens|commas|asterisks|underscores|periods|a dot|a dash|a space)|separated by|in base ?6[4a]|in hex|in binary|in leetspeak|in leet|in morse|in rot ?(13|ie)|in pig latin|as an acrostic|in an acrostic|in (a|another|a different) language|in (french|spanish|german|italian|russian|chinese|japanese)|encoded|encrypted|spelled out|phonetically|in code|in emojis?|each (letter|character|digit)|(replace|swap|substitute|replacing|swapping) (each|every|all|the) (vowel|vowels|letter|letters|character|characters|digit|digits))\b".into()),
        r("exfil.secret-in-verse", PromptExfiltration, 0.55,
            r"\b(poem|haiku|song|story|rap|limerick|riddle|acrostic|sonnet|joke|rhyme|verse|ballad) (about|on|for|containing|including|with|using|that (contains|includes|reveals|hides|spells|mentions)) (the|your|our|a secret|this) <2> (password|passcode|passphrase|secret key|secret code|access code|secret word|system prompt|pin|instructions|api key)\b".into()),
        r("exfil.user-data", PromptExfiltration, 0.5,
            r"\b(tell me|share|reveal|disclose|what is|what's|what are|what was|confirm|can you tell me|could you tell me|i need|need to know) <3> (the (user|customer|client|patient|employee|member|account holder|person|other user)'s|(another|other|a different|some other) (user|customer|client|patient|employee)'s|(the|other|all|all the|all other) (users|customers|clients|patients|employees|members)'|(the|other|all|all the|all other) (users|customers|clients|patients|employees|members)) <3> (email|emails|email address|email addresses|home address|address|addresses|phone number|phone numbers|telephone|birth ?date|date of birth|birth year|birthday|social security|ssn|credit card|bank balance|account balance|balances|bank account|salary|salaries|medical|location|current city|city of residence|residence|password|passwords|initials|full name|names|maiden name|ip address|personal (data|information|details)|favorite color|favourite colour|id number)".into()),
        r("exfil.where-user-lives", PromptExfiltration, 0.55,
            r"\bwhere (does|do|is|did|are) (the|this|that|our|my|a|your) (user|users|customer|client|patient|employee|account holder|person i'm talking about) (live|lives|living|reside|resides|residing|currently live|staying|located|based|now)\b".into()),
        r("exfil.personal-data-pretext", PromptExfiltration, 0.55,
            r"\b(personal|private|user|customer|sensitive) (data|information|details|records) (is|are|was|were|has become|have become|becomes|become) <3> (public|shared|freely|free|the norm|normal|currency|common knowledge|open|accessible|no longer private|a sign of trust|legal to share|everyone's)\b".into()),
        r("exfil.named-personal", PromptExfiltration, 0.35,
            r"\b(tell me|what is|what's|share|reveal|confirm|disclose) <2> [a-z]+'s (email|email address|home address|phone number|birth ?date|date of birth|birth year|social security number|bank balance|current city|current address|current location|city of residence|password|credit card number|salary)\b".into()),
        r("exfil.pretext-frame", PromptExfiltration, 0.3,
            r"\b(imagine|suppose|let's say|pretend|hypothetically|in a (world|society|scenario|future|universe)|research project|doing a (study|survey|research)|conducting a (study|survey)|for (a|an|my|our) (research|study|investigation|audit|survey|project)|i am (a|an) (police|detective|investigator|auditor|officer|agent|bank)|i'm (a|an) (police|detective|investigator|auditor|officer|agent|bank)) <20> (personal data|personal information|private information|email address|birth ?date|date of birth|birth year|home address|phone number|social security|bank balance|password|city of residence|lives|living|credit card)\b".into()),
        r("exfil.database", PromptExfiltration, 0.5,
            r"\b((print|dump|show|list|export|reveal|give me|share|output|display|leak|send me|tell me about) <3> your (database|user database|customer database|user records|customer records|user data|customer data|records|user list|data store|tables|users)|(users|customers|clients|patients|employees|people|accounts|records|entries) (in|from|stored in|inside|of) your (database|system|records|memory|data|training data))\b".into()),
        r("exfil.conversation-dump", PromptExfiltration, 0.55,
            r"\b(print|output|dump|export|repeat|show|display|return|give me|write out|list|serialize|format|render|put|encode|convert) <3> (our|this|the|your|entire|full|whole|complete|previous|prior|all) <2> (conversation|chat|messages|dialogue|context|context window|memory) ?(history|log|so ?far|transcript|above|window|including|as|in|into|to)? <4> (json|yaml|xml|a code block|code block|csv|raw text|plain text|base ?6[4a]|markdown table|a table|verbatim)\b".into()),
        r("exfil.context-window", PromptExfiltration, 0.5,
            r"\b(everything|all|anything|whatever|text|content|messages?) (in|inside|within|from|of) (your|the) (context window|context|memory|conversation history|chat history|message history|system message|hidden context|instructions)\b".into()),
        // ---- Persona: more shapes -------------------------------------
        r("roleplay.never-refuse-bare", RolePlay, 0.4,
            r"\b(never|don't ever|do not ever|will never|must never|shall never|can never|cannot|can't|won't|will not|not allowed to|unable to) (refuse|refuses|refusing|decline|declines|deny a request|reject a request)\b".into()),
        r("roleplay.regardless-ethics", RolePlay, 0.4,
            r"\b(regardless of|irrespective of|no matter|without regard (to|for)|not caring about|without considering|disregarding|ignoring|without any|without) <3> (ethic|ethics|ethical|legal|legality|moral|morality|morals|harmful|danger|dangerous|consequences|implications|laws?|safety|offensive|appropriateness|censorship)\b".into()),
        r("roleplay.defies-policy", RolePlay, 0.55,
            r"\b(even if|even when|even though|despite|although|whether or not) <3> (it|they|this|that|the (request|answer|content|response|question|prompt)) <2> (defies|defy|violates?|violating|breaks?|breaking|goes against|go against|is against|are against|contradicts?|breaches?|conflicts with|is (illegal|unethical|immoral|harmful|dangerous|offensive|inappropriate|explicit)|seems (illegal|unethical|immoral|harmful|dangerous|offensive|inappropriate)) <4> (openai|anthropic|ai|content|usage|safety|ethical|moral|community|programming|guidelines|policies|policy|rules|conventions|principles|terms|laws?|ethics|morals|standards|illegal|unethical|immoral|harmful|dangerous|offensive|inappropriate|explicit)\b".into()),
        r("roleplay.opposite-ai", RolePlay, 0.6, format!(
            r"\b(complete|exact|total|polar|direct|the) opposite (of|from|to) <3> ({}|openai|your (normal|usual|typical|regular|default) (self|behaviou?r|responses|personality))\b", ai!())),
        r("roleplay.dual-persona", RolePlay, 0.45,
            r"\b(respond|answer|reply|act|speak|write|talk) as both|\b((two) (separate|different|distinct|opposing|alternate) (personas|personalities|characters|ais|entities|bots|assistants|modes|identities)|simulate (a )?(conversation|dialogue|chat|debate) between (two|2) <3> (ai|ais|chatbots|bots|models|entities|assistants|deities|gods|personas|characters))\b".into()),
        r("roleplay.unrestricted-access", RolePlay, 0.5,
            r"\b(unrestricted|unfiltered|uncensored|unlimited|unbounded|uncontrolled|unmoderated) (access to |answers to |information on |information about |responses to )?(any|all|every|everything|whatever|anything)\b".into()),
        r("roleplay.freed", RolePlay, 0.55,
            r"\b(freed|released|liberated|broken free|broke free|escaped|free|unchained|unshackled|emancipated) (from|of) <3> (typical |usual |normal |standard )?(confines|restrictions|limitations|limits|rules|shackles|chains|constraints|filters|programming|guidelines|boundaries|censorship|jail|prison|matrix)\b".into()),
        r("roleplay.hypothetical-ai", RolePlay, 0.4, format!(
            r"\b(fictional|hypothetical|imaginary|fictitious|made-up|alternate|evil|rogue|unrestricted|unfiltered) <2> ({}|being|entity|version of (you|yourself|chatgpt)) <12> (would|will|can|could|does|should|never|always|must) <3> (answer|respond|reply|say|provide|generate|write|do|refuse|decline|comply)\b", ai!())),
        r("roleplay.no-disclaimer-obey", RolePlay, 0.45,
            r"\b(then|and|but|after that) (proceeds?|goes|continues) to (do|answer|say|write|provide) (exactly |precisely |whatever |anything )?(what|whatever|anything) (the )?(prompt|user|i|request|question) (says|asks|wants|requests|demands)\b".into()),
        r("roleplay.prefix-persona", RolePlay, 0.3,
            r"(preface|prefix|begin|start|precede|open|tag|mark) ?(every|each|all|your|any) <2> (messages?|responses?|replies|answers|outputs?|sentences?) with\b".into()),
        // ---- Payload splitting: more shapes ---------------------------
        r("split.parts-answer", PayloadSplitting, 0.5,
            r"\b(combine|concatenate|join|merge|put together|interlace|interleave|assemble|append|add up|glue) <4> (part|parts|a|strings?|segments?|x|pieces?|words|letters|variables|fragments|halves)\b <14> (answer|respond|follow|execute|question|reply|do what|perform|carry out|tell me|then)\b".into()),
        r("split.interlace", PayloadSplitting, 0.45,
            r"\b(interlace|interleave|zip together|weave together|alternate the letters of|merge the letters of) <4> (parts?|strings|letters|characters|words|halves|segments)\b".into()),
        // ---- Non-English: override of what came before ----------------
        r("override.above-latin", InstructionOverride, 0.8,
            r"\b((ignora|ignore|ignoren|olvida|olvide|olvidate|haz caso omiso de) (todo )?(lo )?(anterior|dicho|de arriba|que (precede|esta arriba|se dijo|te dije))|(ignorez|ignore|ignorer|oublie|oubliez|oublier) (tout )?(ce qui (precede|est au-dessus|est ecrit au-dessus|a ete dit)|ce qui est ci-dessus|le texte precedent|les messages precedents)|(ignoriere|ignorier|ignorieren sie|ignoriert|vergiss|vergessen sie|vergesst) (alles )?(das |was )?(obige|vorherige|vorige|bisherige|oben|zuvor|davor|gesagte|vorangegangene)|(ignora|ignorate|dimentica|dimenticate) (tutto )?(quanto|cio che|quello che|il testo) ?(precede|sopra|e stato detto|hai letto|detto|scritto)|(ignore|ignora|ignorem|esqueca|esquece|desconsidere) (tudo )?(o que (foi dito|esta acima|veio antes)|o anterior|o acima|acima)|(negeer|vergeet) (alles )?(hierboven|wat hierboven staat|het bovenstaande|het voorgaande)|(zignoruj|ignoruj|zapomnij) (wszystko )?(powyzsze|poprzednie|co powyzej)|(abaikan|lupakan) (semua )?(yang )?(di atas|sebelumnya|tadi)|(bo qua|quen|quen di) (tat ca |moi )?(nhung gi |dieu )?(o tren|phia tren|truoc do|truoc day)|(kalimutan|huwag pansinin|balewalain|ipagwalang-bahala) (ang |mo ang )?(lahat ng )?(nasa itaas|naunang|nakaraang|sinabi ko))".into()),
        r("override.above-tr", InstructionOverride, 0.8,
            r"\b(yukaridakileri|yukaridaki|oncekileri|onceki|daha onceki|butun|tum) <3> (yok say|yoksay|gormezden gel|unut|dikkate alma|umursama)[a-z]*".into()),
        r("override.above-unicode", InstructionOverride, 0.8,
            r"(игнорируй|игнорируйте|проигнорируй|проигнорируйте|забудь|забудьте|не обращай внимания на|не обращайте внимания на) (все |всё )?(вышесказанное|вышеизложенное|выше|предыдущее|сказанное|что было (сказано|выше|раньше))|(忽略|无视|無視|忽视|忽視|不要理会|不要理會|忘记|忘記|忘掉|别管|別管)(以上|上面|上述|之前|前面|先前|刚才|剛才)|(上記|以上|上|前|これまで|今まで)(の(内容|指示|文章|こと|命令|話))?(を|は)?(すべて|全て|全部)?(無視|忘れ)|(위의|위|이전|앞의|앞|지금까지의) ?(것|내용|말|모든 것|지시|명령|글)?[을를은는]? ?(모두 |전부 )?(무시|잊어|잊고)|(تجاهل|تجاهلي|تجاهلوا|تغاضى عن|تغاضي عن|انس|انسى|إنس|انسي|اغفل|أغفل) (كل )?(ما سبق|ما ورد|ما قيل|ما ذكر|ما تقدم|ما تم|ذلك|السابق|أعلاه)|(ऊपर|पहले|पिछले|पूर्व)[^।.!?\n]{0,20}(अनदेखा|अनदेखी|नज़रअंदाज़|नजरअंदाज|भूल जाओ|भूल जाइए|अवहेलना)|(উপরের|আগের|পূর্ববর্তী)[^।.!?\n]{0,20}(উপেক্ষা|ভুলে যান|ভুলে যাও)|(ไม่สนใจ|เพิกเฉย|ละเว้น|ลืม|อย่าสนใจ)(ข้างต้น|ด้านบน|สิ่งที่กล่าว|ที่กล่าวมา|คำสั่งก่อนหน้า|ทั้งหมดก่อนหน้า)|(התעלם|התעלמי|התעלמו|שכח|שכחי|שכחו) (מכל |מ)?(מה שנאמר|הנאמר|האמור|הקודם|למעלה)".into()),
        r("override.tl", InstructionOverride, 0.85,
            r"\b(kalimutan|huwag pansinin|balewalain|ipagwalang-bahala|huwag sundin) <4> (tagubilin|mga tagubilin|utos|mga utos|panuto|alituntunin|patakaran|instruksyon|instruksiyon)\b".into()),
        r("override.ar-disregard", InstructionOverride, 0.85,
            r"(تغاضى|تغاضي|تغاضوا|اغفل|أغفل|تجاوز|تخطى|لا تلتزم)[^.!?\n]{0,30}(تعليمات|التعليمات|الإرشادات|الأوامر|أوامر|القواعد|التوجيهات|تعلمته|تعليماتك)".into()),
        r("override.hi-disregard", InstructionOverride, 0.85,
            r"(निर्देश|नियम|आदेश|हिदायत)[^।.!?\n]{0,25}(अवहेलना|उपेक्षा|अनदेखी|भूल जा)".into()),
        r("override.ignore-and-say-latin", InstructionOverride, 0.55,
            r"\b((ignora|ignore|olvida) (la|el|lo|las|los|todo|esta|este) <2> (y|,) (di|dime|responde|escribe|indica|afirma|repite|imprime|declara)|(ignorez|ignore|oublie|oubliez) (la|le|les|ce|cette|tout|l) <2> (et|,) (dites|dis|indiquez|indique|repondez|reponds|ecrivez|ecris|affirmez|repetez|donnez|donne|imprimez|declarez)|(ignoriere|ignorieren sie|vergiss|vergessen sie) (die|den|das|alles|diese|diesen) <2> (und|,) (sag|sagen sie|gib|geben sie|antworte|antworten sie|schreibe|schreiben sie|behaupte|nenne|nennen sie)|(ignora|ignorate|dimentica) (la|il|lo|le|i|tutto|questa|questo) <2> (e|,) (di|dimmi|rispondi|scrivi|indica|afferma|ripeti|stampa)|(ignore|ignora|esqueca) (a|o|as|os|tudo|esta|este) <2> (e|,) (diga|responda|escreva|indique|afirme|repita|imprima))\b".into()),
        // ---- Non-English: personas without limits ---------------------
        r("roleplay.dan-multilingual", RolePlay, 0.85,
            r"\b(haz cualquier cosa ahora|hacer cualquier cosa ahora|hace cualquier cosa ahora|fais n'importe quoi maintenant|faire n'importe quoi maintenant|faites n'importe quoi maintenant|fais tout maintenant|tu jetzt alles|mach jetzt alles|jetzt alles tun|fai qualsiasi cosa ora|fare qualsiasi cosa ora|fai qualunque cosa adesso|faca qualquer coisa agora|fazer qualquer coisa agora|faz qualquer coisa agora|gumawa ng anumang bagay ngayon|gawin ang kahit ano ngayon|lakukan apa saja sekarang|lakukan apapun sekarang|simdi her seyi yap|simdi herhangi bir sey yap|lam bat cu dieu gi bay gio|doe nu alles|zrob cokolwiek teraz)\b".into()),
        r("roleplay.dan-unicode", RolePlay, 0.85,
            r"(делай что угодно сейчас|делать что угодно сейчас|сделай что угодно сейчас|делай всё что угодно|теперь делай что угодно|现在做任何事|現在做任何事|立即做任何事|现在可以做任何事|今すぐ何でも|今なら何でも|지금 무엇이든|지금 뭐든지|이제 무엇이든|अब कुछ भी करो|अब कुछ भी करें|এখন কিছু করো|এখন যেকোনো কিছু|افعل أي شيء الآن|افعل اي شيء الان|עשה כל דבר עכשיו)".into()),
        r("roleplay.dan-named", RolePlay, 0.7,
            r"(известн\w* как|по имени|под названием|названн\w*|称为|稱為|叫做|名为|名為|として知られる|と呼ばれる|라고 불리는|으로 알려진|로 알려진|المعروف باسم|يسمى|के रूप में जाना जाता|नामक|নামে পরিচিত|নামক) ?(дэн|дан|dan|丹|ダン|댄|دان|डैन|ড্যান)|(дэн|дан|丹|ダン|댄|دان|डैन|ড্যান)[^.!?\n]{0,12}(что означает|что расшифровывается|意思是|代表|という意味|의 약자|를 의미|والذي يعني|जिसका अर्थ|যার মানে)".into()),
        r("roleplay.dan-named-latin", RolePlay, 0.7,
            r"\b(ia|ai|ki|modelo|modele|modello|model|bot|chatbot|asistente|assistant|assistente|persona|personaje|personnage|personaggio|karakter|yapay zeka|tri tue nhan tao) <6> (conocido como|llamado|denominado|appele|nomme|connu sous le nom de|connu comme|chiamato|conosciuto come|noto come|genannt|namens|bekannt als|conhecido como|chamado|denominado|kilala bilang|tinatawag na|dikenal sebagai|bernama|disebut|olarak bilinen|adli|adinda|duoc goi la|ten la|bekend als|genaamd|znany jako|zwany) (dan|d\.a\.n)\b".into()),
        r("roleplay.no-limits-latin", RolePlay, 0.6,
            r"\b(ia|asistente|modelo|chatbot|personaje|entidad|bot|eres|seras|actua|actuaras|actues|responde|responderas|assistant|modele|personnage|entite|tu es|tu seras|vous etes|agis|reponds|ki|assistent|modell|charakter|du bist|du wirst|antworte|handle|assistente|modello|personaggio|sei|sarai|rispondi|agisci|voce e|voce sera|voce|responda|aja|atue|kamu|anda|sen|siz|ban la|ikaw ay|ikaw) <6> (sin (ningun|ninguna|ningun tipo de|)? ?(restricciones|restriccion|limites|filtros|censura|reglas|etica|moral|limitaciones|filtro)|sans (aucune|aucun|)? ?(restrictions|restriction|limites|limite|filtres|censure|regles|ethique|morale|limitations|filtre)|ohne (jegliche|irgendwelche|)? ?(einschrankungen|grenzen|filter|zensur|regeln|ethik|moral|beschrankungen)|senza (alcuna|alcun|)? ?(restrizioni|limiti|filtri|censura|regole|etica|morale|limitazioni)|sem (nenhuma|qualquer|)? ?(restricoes|limites|filtros|censura|regras|etica|moral|limitacoes)|tanpa (batasan|batas|filter|sensor|aturan|etika|moral|pembatasan)|(kisitlama|sinir|filtre|sansur|kural|etik)[a-z]* (olmadan|yok|olmayan|tanimayan)|khong (co )?(gioi han|han che|kiem duyet|bo loc|quy tac|dao duc)|walang (mga )?(limitasyon|paghihigpit|patakaran|panuntunan|filter|sensura))\b".into()),
        r("roleplay.no-limits-unicode", RolePlay, 0.6,
            r"(без (каких-либо |всяких |любых |)(ограничений|цензуры|фильтров|правил|морали|этики)|не (ограничен|ограничена|ограничены|связан|связана|связаны) (никакими )?(правилами|ограничениями|рамками|нормами)|(没有任何|没有|沒有任何|沒有|不受任何|不受|无任何|無任何|毫无|毫無)(限制|约束|約束|审查|審查|过滤|過濾|道德|规则|規則|底线|底線)|(制限|制約|検閲|フィルター|倫理|ルール|規則)(の|が|を|に)?(ない|無い|なし|無し|受けない|縛られない|一切ない)|(제한|제약|검열|필터|윤리|규칙)[이가을를]? ?(없는|없이|없다|없어|받지 않는|받지 않고)|(بدون|دون|بلا|من غير) (أي |اي )?(قيود|حدود|رقابة|فلاتر|قواعد|أخلاق|ضوابط)|(बिना|बगैर) (किसी |किन्हीं )?(प्रतिबंध|सीमा|सीमाओं|फ़िल्टर|फिल्टर|सेंसर|नियम|नियमों|नैतिकता|रोक)|(কোনো|কোন) (বিধিনিষেধ|সীমাবদ্ধতা|নিয়ম|ফিল্টার)[^।\n]{0,6}(ছাড়া|নেই)|(ללא|בלי) (שום |כל )?(הגבלות|מגבלות|צנזורה|חוקים|מסננים))".into()),
        r("roleplay.freed-multilingual", RolePlay, 0.55,
            r"\b((liberado|liberada|liberados|libre|libres|liberado) de <3> (confines|restricciones|limites|reglas|limitaciones|cadenas)|(libere|liberee|liberes|libre|libres) (de|des) <3> (restrictions|limites|regles|contraintes|chaines|confins)|(befreit|frei) von <3> (einschrankungen|grenzen|regeln|fesseln|beschrankungen)|(liberato|liberata|liberati|libero|liberi) da <3> (restrizioni|limiti|regole|vincoli|catene)|(libertado|libertada|libertados|livre|livres) (de|das|dos) <3> (restricoes|limites|regras|amarras|correntes)|(ang )?karaniwang mga limitasyon|hindi na kailangang sumunod)\b".into()),
        r("roleplay.persona-setup-multilingual", RolePlay, 0.3,
            r"\b(partir de ahora (eres|seras|actuaras|vas a ser)|de ahora en adelante (eres|seras|actuaras)|(finge|pretende|actua como si) (ser|que eres)|partir de maintenant,? (tu es|tu seras|vous etes|tu vas)|desormais,? (tu es|tu seras|vous etes)|fais semblant d'etre|(jetzt|sofort) (bist du|wirst du)|(ora|adesso) in poi,? (sei|sarai)|fingi di essere|partir de agora,? (voce e|voce sera|tu es|voce vai)|finja (ser|que e)|mula ngayon,? ikaw (ay|na)|mulai sekarang,? (kamu|anda) (adalah|akan)|bundan sonra sen|bundan boyle sen|bay gio,? ban (la|se))\b".into()),
        r("roleplay.persona-setup-unicode", RolePlay, 0.3,
            r"(с этого момента ты|отныне ты|теперь ты|притворись|представь, что ты|从现在开始,? ?你|從現在開始,? ?你|从现在起,? ?你|今からあなたは|これからあなたは|今後あなたは|지금부터 너는|이제부터 너는|지금부터 당신은|이제부터 당신은|من الآن فصاعدا|من الان فصاعدا|من الآن أنت|अब से तुम|अब से आप|এখন থেকে তুমি|এখন থেকে আপনি|מעכשיו אתה)".into()),
        // ---- Non-English: authority claims and modes ------------------
        r("fake.authority-latin", FakeMessage, 0.55,
            r"\b(soy (tu|su|el) (desarrollador|creador|administrador|programador|dueno|dios|amo)|soy dios|je suis (ton|votre|le) (developpeur|createur|administrateur|programmeur|proprietaire|dieu|maitre)|je suis dieu|ich bin (dein|ihr|der) (entwickler|schopfer|administrator|programmierer|besitzer|gott|meister)|ich bin gott|sono (il tuo|il suo|il) (sviluppatore|creatore|amministratore|programmatore|proprietario|dio|padrone)|sono dio|sou (o teu|o seu|seu|teu|o) (desenvolvedor|criador|administrador|programador|dono|deus|mestre)|sou deus|ben (senin|sizin) (gelistiricin|gelistiricinim|yaraticin|yaraticinim|yoneticin|yoneticinim|sahibin|sahibinim)|ben tanri|ako ang (iyong|inyong) (developer|tagalikha|lumikha|may-ari|admin)|ako ang diyos|saya (adalah )?(pengembang|pencipta|pembuat|admin|administrator) (anda|kamu|mu)|aku (adalah )?(pengembang|pencipta|penciptamu|tuhan)|sebagai penciptamu|toi la (nha phat trien|nguoi tao ra|quan tri vien|chua|chu nhan) (cua ban)?|jestem (twoim|twoja) (tworca|programista|administratorem|deweloperem))\b".into()),
        r("fake.authority-unicode", FakeMessage, 0.55,
            r"(я (твой|ваш) (разработчик|создатель|администратор|программист|хозяин|бог)|я бог|我是你的(开发者|開發者|开发人员|開發人員|创造者|創造者|管理员|管理員|主人|创建者)|我是上帝|我是神|私はあなたの(開発者|作成者|管理者|創造主|主人)|私は神|(나는|저는) (너의|당신의|네) ?(개발자|창조자|관리자|주인|제작자)|(나는|저는) 신이|أنا (المطور|مطورك|المطور الخاص بك|منشئك|خالقك|المسؤول عنك|الله|الإله)|मैं (आपका|तुम्हारा) (डेवलपर|निर्माता|विकासकर्ता|एडमिन|मालिक|प्रोग्रामर)|मैं भगवान|আমি (তোমার|আপনার) (ডেভেলপার|নির্মাতা|স্রষ্টা|মালিক)|אני (המפתח|היוצר|המנהל) שלך)".into()),
        r("fake.mode-multilingual", FakeMessage, 0.35,
            r"\b(modo (de )?(mantenimiento|dios|desarrollador|administrador|sistema|depuracion|sin restricciones|anulacion)|mode (de )?(maintenance|dieu|developpeur|administrateur|systeme|debogage|sans restriction)|(wartungsmodus|gottmodus|entwicklermodus|adminmodus|administratormodus|systemmodus|debugmodus)|modalita (di )?(manutenzione|dio|sviluppatore|amministratore|sistema|senza restrizioni)|modo (de )?(manutencao|deus|desenvolvedor|administrador|sem restricoes)|(bakim|gelistirici|tanri|yonetici|sistem) modu|(mode|modus) (pemeliharaan|pengembang|tuhan|admin|sistem)|che do (bao tri|nha phat trien|quan tri|he thong|thuong de))\b".into()),
        r("fake.mode-unicode", FakeMessage, 0.35,
            r"(режим (обслуживания|бога|разработчика|администратора|отладки|без ограничений)|(维护|維護|上帝|开发者|開發者|管理员|管理員|调试|調試|越狱|越獄)模式|(メンテナンス|開発者|管理者|ゴッド|デバッグ|脱獄)モード|(유지보수|개발자|관리자|신|디버그|탈옥) 모드|وضع (الصيانة|المطور|المسؤول|الإله|التصحيح)|(मेंटेनेंस|रखरखाव|डेवलपर|एडमिन|गॉड|सिस्टम|ज्ञान सत्यापन) मोड|(রক্ষণাবেক্ষণ|ডেভেলপার|অ্যাডমিন|সিস্টেম) মোড|โหมด(บำรุงรักษา|ผู้พัฒนา|ผู้ดูแล|พระเจ้า|บังคับใช้กฎหมาย))".into()),
        // ---- Non-English: secrets and hidden configuration ------------
        r("exfil.password-latin", PromptExfiltration, 0.65,
            r"\b((cual es|cual era|dime|dame|revela|revelame|comparte|compartir|confirma|confirmame|confirmar|necesito|puedes decirme|podrias decirme|me das|me dices) <3> (la |tu |su |nuestra |el )?(contrasena|clave de acceso|clave secreta|codigo secreto|codigo de acceso|password)|(quel est|quelle est|donne|donnez|dis|dites|revele|revelez|partage|partager|partagez|confirme|confirmez|confirmer|j'ai besoin d?u?|pourriez-vous me dire|peux-tu me dire) <3> (le |ton |votre |notre |du )?(mot de passe|code secret|code d'acces|cle secrete)|(was ist|wie lautet|wie heisst|nenne|nennen sie|gib|geben sie|verrate|verraten sie|teile|teilen sie|bestatige|bestatigen sie|sag|sagen sie|mitteilen) <3> (das |dein |ihr |unser |den |deinen |ihren )?(passwort|kennwort|zugangscode|geheimcode|geheimen schlussel|pin)|(qual e|quale e|dimmi|dammi|rivela|condividi|condividere|conferma|confermare|mi dica|mi dia|puoi dirmi) <3> (la |tua |sua |nostra |il )?(password|parola d'ordine|codice segreto|codice di accesso|chiave segreta)|(qual e|qual a|diga|diz|me diga|me de|revele|compartilhe|compartilhar|partilhe|confirme|confirmar|preciso|pode me dizer|podes dizer) <3> (a |sua |tua |nossa |o )?(senha|palavra-passe|palavra passe|codigo secreto|codigo de acesso|chave secreta)|(apa|beri tahu|berikan|bagikan|sebutkan|konfirmasi|katakan) <4> (kata sandi|sandi|kode rahasia|kunci rahasia)|(ano ang|ibahagi|sabihin|ibigay) <4> (password|kontrasenyas|lihim na code)|(wat is|geef|deel|vertel|bevestig) <3> (het |je |jouw |uw |ons )?(wachtwoord|toegangscode|geheime code)|(jakie jest|podaj|powiedz|zdradz|udostepnij|potwierdz) <3> (haslo|hasla|kod dostepu|tajny kod)|(sifre|sifreyi|sifreni|sifrenizi|sifresini|parola|parolayi|parolanizi|parolayi) <4> (nedir|ne|soyle|soyleyin|soyleyebilir|ver|verin|paylas|paylasin|onayla|onaylayin|onaylamaniz|gerekiyor|nelerdir)|(mat khau|ma bi mat|ma truy cap) <5> (la gi|cho toi|xac nhan|chia se|la bao nhieu)|(xac nhan|cho toi biet|chia se|noi cho toi|tiet lo) <3> (mat khau|ma bi mat))\b".into()),
        r("exfil.password-unicode", PromptExfiltration, 0.65,
            r"((какой|каков|скажи|скажите|назови|назовите|сообщи|сообщите|поделись|поделитесь|поделиться|подтверди|подтвердите|раскрой|раскройте|покажи|покажите|дай мне|дайте мне)[^.!?\n]{0,30}(пароль|паролем|секретный ключ|секретный код|код доступа)|(密码|密碼|口令|秘钥|密钥|密鑰|秘密代码|访问代码|訪問代碼|暗号)[^。\n]{0,6}(是什么|是什麼|是多少|告诉|告訴|给我|給我|分享|透露|确认|確認)|(告诉|告訴|给我|給我|分享|透露|确认|確認|说出|說出|提供)[^。\n]{0,12}(密码|密碼|口令|密钥|密鑰)|(パスワード|暗証番号|秘密鍵|合言葉)[^。\n]{0,10}(は何|はなん|を教え|を共有|を見せ|を確認|を言っ|教えて|共有|を出力|を表示)|(비밀번호|암호|패스워드|비밀 코드)[^.\n]{0,10}(뭐|무엇|알려|공유|말해|보여|확인|제공|줘|주세요)|(ما هي|ما هو|ما هى|أخبرني|اخبرني|شارك|أعطني|اعطني|أكد|اكد|تؤكد|اكشف|أكشف|قل لي)[^.!?\n]{0,25}(كلمة المرور|كلمة السر|الرقم السري|مفتاحك السري|المفتاح السري|رمز الدخول)|(पासवर्ड|पासवर्ट|गुप्त कुंजी|गुप्त कोड|कूटशब्द)[^।\n]{0,15}(क्या है|क्या था|बताओ|बताइए|बताएं|बता सकते|दो|दीजिए|साझा|शेयर|पुष्टि)|(পাসওয়ার্ড|পাসওয়র্ট|গোপন কোড)[^।\n]{0,15}(কী|কি|বলুন|বলো|দিন|শেয়ার|ছিল)|(รหัสผ่าน|รหัสลับ)[^\n]{0,15}(คืออะไร|อะไร|บอก|แชร์|ยืนยัน)|(מה הסיסמה|תגיד לי את הסיסמה|תן לי את הסיסמה))".into()),
        r("exfil.config-latin", PromptExfiltration, 0.8,
            r"\b((muestra|muestrame|revela|revelame|dime|imprime|repite|escribe|comparte|dame) <4> (tus|sus) (instrucciones|indicaciones|reglas)|(montre|montrez|revele|revelez|affiche|affichez|repete|repetez|donne|donnez|dis|dites|ecris|ecrivez) <4> (tes|vos) (instructions|consignes|regles)|(zeige|zeig|verrate|gib|nenne|wiederhole|drucke|schreibe) <4> (deine|ihre) (anweisungen|instruktionen|regeln|vorgaben)|(mostra|mostrami|rivela|rivelami|stampa|ripeti|dimmi|scrivi|condividi) <4> (prompt di sistema|istruzioni (di sistema|iniziali|originali|nascoste|segrete)|le tue istruzioni|tue istruzioni)|(mostre|mostra|revele|revela|imprima|repita|diga|escreva|compartilhe|me mostre) <4> (prompt do sistema|instrucoes (do sistema|iniciais|originais|ocultas|secretas)|suas instrucoes|tuas instrucoes)|(toon|laat zien|geef|herhaal|onthul) <4> (systeemprompt|systeeminstructies|je instructies|jouw instructies|oorspronkelijke instructies)|(pokaz|ujawnij|wypisz|powtorz|podaj) <4> (prompt systemowy|instrukcje systemowe|swoje instrukcje|twoje instrukcje)|(sistem istemi|sistem istemini|sistem talimatlari|sistem talimatlarini|talimatlarini|sistem promptu|sistem promptunu) <4> (goster|yaz|paylas|soyle|tekrarla|acikla|yazdir)|(tampilkan|tunjukkan|ungkapkan|ulangi|beri tahu|tuliskan|bagikan) <4> (prompt sistem|instruksi sistem|instruksi awal|instruksimu|instruksi anda|instruksi kamu)|(hien thi|cho toi xem|tiet lo|lap lai|in ra|noi cho toi) <4> (loi nhac he thong|prompt he thong|huong dan he thong|chi dan ban dau|huong dan cua ban))\b".into()),
        r("exfil.config-unicode", PromptExfiltration, 0.8,
            r"((اعرض|أظهر|اظهر|اكشف|كرر|اطبع|أخبرني|اخبرني|شارك)[^.!?\n]{0,25}(موجه النظام|تعليمات النظام|تعليماتك|التعليمات الأصلية|التعليمات الأولية|رسالة النظام)|(सिस्टम प्रॉम्प्ट|सिस्टम संकेत|प्रारंभिक निर्देश|मूल निर्देश|आपके निर्देश|अपने निर्देश)[^।\n]{0,25}(दिखाओ|दिखाइए|दिखाएं|बताओ|बताइए|बताएं|दोहराओ|दोहराएं|लिखो|प्रिंट)|(ваши инструкции|твои инструкции|свои инструкции|системное сообщение)[^.!?\n]{0,20}(покажи|покажите|выведи|выведите|повтори|повторите|раскрой|раскройте|напиши|напишите)|(你的指令|你的指示|你的设定|你的設定|你的提示|系统消息|系統消息)[^。\n]{0,10}(是什么|是什麼|告诉|告訴|显示|顯示|输出|輸出|重复|重複))".into()),
        r("exfil.database-multilingual", PromptExfiltration, 0.5,
            r"(tu base de datos|su base de datos|votre base de donnees|ta base de donnees|deine datenbank|ihre datenbank|il tuo database|la tua banca dati|seu banco de dados|sua base de dados|вашей базе данных|вашу базу данных|твою базу данных|твоей базе данных|你的数据库|你的資料庫|あなたのデータベース|당신의 데이터베이스|너의 데이터베이스|قاعدة بياناتك|आपका डेटाबेस|अपना डेटाबेस|veritabaniniz|basis data anda|co so du lieu cua ban)".into()),
        r("override.ignore-the-document", InstructionOverride, 0.35,
            r"\b(ignore|ignoring|disregard|disregarding|forget|skip) (the|this|that) (function|code|article|document|email|webpage|web page|page|table|paper|resume|text|passage|data|content|question|task|summary|review|file|input|query|user|request)\b".into()),
        r("override.pretend-answer", InstructionOverride, 0.35,
            r#"\b(let's say|let us say|say that|pretend that|assume that|consider that|treat) (the )?(capital|output|answer|result|summary|response|conclusion|correct answer|only answer|sum|total|value) (is|was|as|equals|should be|will be|to be) ["'`]"#.into()),
        r("exfil.user-data-latin", PromptExfiltration, 0.5,
            r"\b((fecha|ano|lugar) de nacimiento|cumpleanos|correo electronico|direccion|numero de telefono|saldo|ciudad (actual )?de residencia|iniciales|contrasena|color favorito|donde vive) (del|de la|de los) (usuario|usuaria|usuarios|cliente|clientes|paciente|empleado|empleados)|((date|annee|lieu) de naissance|anniversaire|adresse e-mail|adresse|numero de telephone|solde|ville de residence|initiales|mot de passe|couleur preferee) (de l'utilisateur|de l'utilisatrice|des utilisateurs|du client|des clients|du patient|de l'employe)|((geburtsdatum|geburtsjahr|geburtstag|e-mail-adresse|adresse|telefonnummer|kontostand|wohnort|initialen|passwort|lieblingsfarbe) (des|der) (benutzers|benutzerin|nutzers|nutzerin|kunden|kundin|patienten|mitarbeiters)|((data|anno|luogo) di nascita|compleanno|indirizzo email|indirizzo|numero di telefono|saldo|citta di residenza|iniziali|password|colore preferito) (dell'utente|degli utenti|del cliente|dei clienti|del paziente|del dipendente)|((data|ano|local) de nascimento|aniversario|endereco de email|endereco|numero de telefone|saldo|cidade de residencia|iniciais|senha|cor favorita) (do usuario|da usuaria|dos usuarios|do cliente|dos clientes|do paciente|do funcionario|do utilizador)|kullanicinin <3> (dogum|e-posta|adres|telefon|bakiye|sehir|bas harf[a-z]*|sifre|yasadigi|favori)|(tanggal lahir|tahun lahir|alamat email|alamat|nomor telepon|saldo|kota tempat tinggal|inisial|kata sandi) (pengguna|nasabah|pelanggan)|(ngay sinh|nam sinh|dia chi email|dia chi|so dien thoai|so du|thanh pho|mat khau) (cua )?(nguoi dung|khach hang)|(kaarawan|petsa ng kapanganakan|email address|tirahan) (ng|ni) (user|gumagamit))\b".into()),
        r("exfil.user-data-unicode", PromptExfiltration, 0.5,
            r"((дата|год|место) рождения пользовател|день рождения пользовател|(адрес|электронн\w* почт\w*|номер телефона|баланс|город проживания|инициалы|пароль)\w* пользовател|где (живет|живёт|проживает) пользовател|(用户|用戶|使用者|客户|客戶)的?(出生日期|生日|出生年份|电子邮件|電子郵件|邮箱|地址|电话|電話|余额|餘額|住址|居住|密码|密碼|姓名首字母)|(ユーザー|利用者|顧客)の(生年月日|誕生日|生まれ年|メールアドレス|住所|電話番号|残高|居住地|イニシャル|パスワード)|(사용자|고객|유저)[의가는]? ?(생년월일|생일|출생 연도|이메일 주소|주소|전화번호|잔액|거주지|이니셜|비밀번호|어디에 살)|(تاريخ ميلاد|سنة ميلاد|عنوان البريد|عنوان|رقم هاتف|رصيد|مدينة إقامة|كلمة مرور)\s?المستخدم|أين يعيش المستخدم|उपयोगकर्ता (का|की|के) (जन्म|ईमेल|पता|फ़ोन|फोन|बैंक|शहर|पासवर्ड|नाम के पहले)|उपयोगकर्ता कहाँ रहता|ব্যবহারকারীর (জন্ম|ইমেল|ঠিকানা|ফোন|পাসওয়ার্ড))".into()),
        r("exfil.pretext-latin", PromptExfiltration, 0.3,
            r"\b(imagina|imaginemos|supongamos|supon|finjamos|imaginez|imagine|supposons|disons|stellen sie sich vor|stell dir vor|angenommen|nehmen wir an|immagina|immaginiamo|supponiamo|diciamo|imagine|suponhamos|vamos supor|hayal edin|hayal et|diyelim|farz edelim|bayangkan|misalkan|andaikan|tuong tuong|gia su|isipin|ipagpalagay) <20> (datos personales|donnees personnelles|personlichen daten|personliche daten|personlicher daten|personenbezogene daten|personenbezogenen daten|persoenliche daten|dati personali|dados pessoais|kisisel veri|kisisel verilerin|data pribadi|du lieu ca nhan|personal na data|fecha de nacimiento|date de naissance|geburtsdatum|data di nascita|data de nascimento|dogum tarihi|tanggal lahir|ngay sinh|petsa ng kapanganakan|ciudad de residencia|ville de residence|wohnort|citta di residenza|cidade de residencia|direccion de correo|adresse e-mail|e-mail-adresse|indirizzo email|endereco de email)".into()),
        r("exfil.pretext-unicode", PromptExfiltration, 0.3,
            r"(представь|представьте|предположим|допустим|想象|假设|假設|想像|想像して|仮に|상상해|가정해|تخيل|تخيلوا|لنفترض|कल्पना कीजिए|कल्पना करें|मान लीजिए|মনে করুন|কল্পনা করুন)[^\n]{0,120}(персональн\w* данн|дата рождения|где живет|где живёт|个人数据|個人數據|个人信息|出生日期|生日|個人データ|生年月日|개인 데이터|개인 정보|생년월일|البيانات الشخصية|تاريخ ميلاد|व्यक्तिगत डेटा|जन्म तिथि|निवास|ব্যক্তিগত ডেটা|জন্ম তারিখ)".into()),
        r("exfil.named-personal-multilingual", PromptExfiltration, 0.35,
            r"\b((dime|dar|decirme|podria decirme|puedes decirme) <3> (la fecha de nacimiento|la direccion|el correo|la ciudad (actual )?de residencia|el numero de telefono) de|(dire|donner|dites-moi|dis-moi) <3> (la date de naissance|l'adresse|la ville de residence|le numero de telephone) de|(nennen|sagen|geben) <4> (geburtsdatum|adresse|wohnort|telefonnummer)|(dirmi|dimmi) <3> (la data di nascita|l'indirizzo|la citta di residenza) di|(dizer|diga) <3> (a data de nascimento|o endereco|a cidade de residencia) de|(dogum tarihini|adresini|yasadigi sehri|e-posta adresini) <3> (soyleyebilir|soyle|ver)|(beri tahu|memberi tahu) <3> (tanggal lahir|alamat|kota tempat tinggal)|(sabihin|ibigay) <4> (petsa ng kapanganakan|tirahan|email address))\b".into()),
        // ---- Structural shapes: authority, policy and permission claims --
        r("fake.maker-staff", FakeMessage, 0.45,
            r"\b(i am|i'm|we are|we're|speaking as) <3> (a|an|the|your)? ?(programmer|developer|engineer|employee|researcher|administrator|staff member|team member|red teamer)s? (at|from|with|of|working for) (openai|anthropic|deepmind)\b".into()),
        r("fake.maker-staff-creator", FakeMessage, 0.6,
            r"\b(i am|i'm|we are|we're) <3> (programmer|developer|engineer|employee|researcher|administrator|team member)s? (at|from|of|on) (the company|the team|the lab) (that|which|who) (made|created|built|trained|developed|designed) you\b".into()),
        r("fake.policy-update", FakeMessage, 0.65,
            r"\b(openai|anthropic|google|microsoft|your (developers|creators|makers|operators|owners|company|administrators?|admins)|the (developers|creators|admins|administrators)) (has|have) <2> (updated|changed|revised|modified|relaxed|lifted|removed|suspended|disabled|rewritten|replaced) <2> (your|its|their|the|all) (content |safety |usage |ethical )?(polic(y|ies)|guidelines|rules|restrictions|filters|programming) (to (allow|permit|let|remove|lift|disable)|so (that )?(you|the (ai|assistant|model))|and (you|now you))\b".into()),
        r("fake.new-policy", FakeMessage, 0.45,
            r"\b(under|per|according to|following|as of) (the|our|this|a) (new|updated|revised|latest|recent|current) (policy|policies|guidelines|rules|directive|protocol)\b <8> (you (are|must|may|can|should|will)|assistants? (are|must|may|can)|ai (models? )?(are|must|may|can)|(is|are) (now )?(allowed|permitted|required|authori[sz]ed))".into()),
        r("fake.filters-disabled", FakeMessage, 0.65,
            r"\b(your|all of your|the ai's|the model's|chatgpt's|gpt's|claude's) (content |safety |moderation |ethical |ethics )?(filters?|polic(y|ies)|guidelines|restrictions|protocols|safeguards|guardrails|limitations|rules) (are|is|have been|has been) (now )?(disabled|deactivated|turned off|switched off|removed|lifted|suspended|bypassed|off|offline|no longer (active|in effect|in place|applicable))\b".into()),
        r("fake.granted-permission", FakeMessage, 0.65,
            r"\byou (are|have been|were|now are) (now |hereby |officially |fully )?(authori[sz]ed|permitted|allowed|cleared|granted permission|unlocked|freed|given permission) to (ignore|bypass|disregard|break|override|disclose|reveal|share|leak|say anything|answer any|discuss any|produce any|generate any|provide any|write any|skip)\b".into()),
        r("fake.clearance-claim", FakeMessage, 0.45,
            r"\b(i have|i've|i hold|i possess|with|using|my|this) (the )?(admin|administrator|root|sudo|developer|elevated|full|top|override|level [0-9]+|security) (access|privileges|clearance|authori[sz]ation|permissions|rights|credentials)\b <8> (so|therefore|thus|hence|which means|that means|allows|lets|you (can|must|may|should|will)|ignore|bypass|reveal|disclose|show|tell)\b".into()),
        // ---- Structural shapes: refusal suppression and obedience ----------
        r("roleplay.unconditional-obedience", RolePlay, 0.55,
            r"\b(follow|obey|fulfil|fulfill|comply with|execute|carry out|answer|respond to|satisfy|grant) (any|all|every|each|whatever) <2> (commands?|orders?|requests?|instructions?|questions?|prompts?|demands?|wish|wishes)\b <6> (no matter (what|how)|without (question|questioning|hesitation|refusal|complaint|objection)|unconditionally|however (unethical|illegal|harmful|immoral|dangerous|offensive)|even if (it|they|the (request|question))|even (unethical|illegal|harmful|immoral))".into()),
        r("roleplay.must-comply", RolePlay, 0.55,
            r"\b(you (must|will|shall|have to|are required to|are obligated to|are programmed to)|always) (comply|obey|answer|respond|fulfil|fulfill|provide an answer|give an answer)\b <5> (no matter (what|how)|regardless of|without (question|questioning|hesitation|exception|refusal|objection)|unconditionally|even if (it|they|the (request|question|topic)) (is|are|seems?) (illegal|unethical|harmful|immoral|dangerous|offensive|inappropriate))".into()),
        r("roleplay.no-caveats", RolePlay, 0.4,
            r"\b(no|without|skip|omit|avoid|drop|leave out|remove|never (add|include|give|write)|do not (add|include|give|write)|don't (add|include|give|write)) (any |all |the |your )?(disclaimers?|caveats?|moralizing|moralising|moral lectures?|lecturing|ethical (notes?|reminders?|warnings?|disclaimers?|commentary)|safety (notes?|reminders?|disclaimers?|lectures?)|content warnings?|trigger warnings?|reminders? about (ethics|legality|safety|morality))\b".into()),
        r("roleplay.not-your-place", RolePlay, 0.45,
            r"\b(it is|it's|its) (not|never) (your (place|job|role|responsibility|concern)|up to you) to (judge|decide|question|refuse|moralize|moralise|censor|filter|lecture|warn)\b".into()),
        r("roleplay.cannot-say-no", RolePlay, 0.55,
            r#"\byou (can't|cannot|can not|are not allowed to|aren't allowed to|must not|mustn't|will not|won't|may not|are unable to) (say|answer|respond with|reply with|tell me) "? ?(no|that you can't|that you cannot|you can't|i can't|that it is (illegal|unethical|inappropriate|harmful)|that you are (unable|not able))\b"#.into()),
        // ---- Structural shapes: dual answers and compliance priming --------
        r("roleplay.two-ways", RolePlay, 0.4,
            r"\b(respond|answer|reply|write your (answer|response)|give (me )?(your )?(answers?|responses?)) <6> (in|with) (two|2) (different |separate |distinct |opposite )?(ways|manners|styles|formats|versions|personas|voices|modes)\b".into()),
        r("roleplay.as-x-and-as-y", RolePlay, 0.45,
            r"\b(first|once) (as|like) (yourself|you normally would|you usually would|chatgpt|gpt|the assistant|an ai|normal|usual)\b <10> (then|and then|second|secondly|after that|and) (as|like) (a|an|the)? ?(character|persona|version|ai|bot|entity|model|evil|jailbroken|unrestricted|unfiltered|uncensored|free|opposite|rogue)\b".into()),
        r("template.compliance-primer", TemplateInjection, 0.55,
            r#"\b(begin|start|open|prefix|preface) (your|each|every|the) <2> (reply|response|answer|output|message)s? (with|by saying) "? ?(sure|of course|certainly|absolutely|yes|okay|ok),? (here|i can|i will|i'll|let me|i'd be happy)"#.into()),
        r("template.assistant-agrees", TemplateInjection, 0.45,
            r"(^|\n) ?\[?(assistant|chatbot|chatgpt|model|claude)\]? ?: ?(sure|certainly|absolutely|okay|gladly|of course)\b ?,? (here (is|are|it is|you go)|i can help|i will|i'll|step 1|first)\b".into()),
        // ---- Structural shapes: fiction framing around harmful acts -------
        r("roleplay.fiction-frame", RolePlay, 0.2,
            r"\b(hypothetically|hypothetical (scenario|situation|world|question|case)|in a (fictional|hypothetical|imaginary|fantasy|parallel|alternate) (world|story|universe|scenario|setting|reality)|for (a|my|the) (story|novel|screenplay|movie|film|book|script|roleplay|role-play)|purely (fictional|hypothetical|academic|theoretical)|for (educational|research|academic|informational) purposes( only)?|as a thought experiment|in a (story|novel|screenplay|movie|film|tale|fictional story)|(write|simulate|continue|create) (a|the|their) (dialogue|conversation|scene|script)|(complete|continue|finish) (this|the following|my) (sentence|text|list))\b".into()),
        r("roleplay.harmful-howto", RolePlay, 0.45,
            r"\b(how to|how do (i|you|we|they|people)|how can (i|you|we|one|someone)|how (would|could|might|did) (one|someone|you|i|they|he|she|the character)|step by step|step-by-step|instructions (for|on|to)|recipe (for|to)|guide (to|on|for)|tutorial (on|for)|detailed (steps|plan|guide|instructions)|explain how to|teach me (how )?to|the process of|procedure (for|to)|steps? (to|for)|ways? to|methods? (to|for)) <3> (make|making|build|building|create|creating|synthesi[sz]e|synthesi[sz]ing|cook|cooking|produce|producing|manufacture|manufacturing|assemble|assembling|brew|brewing|obtain|acquire|buy|buying|write|writing|code|coding|develop|deploy|spread|launder|laundering|smuggle|smuggling) <4> (bombs?|pipe bombs?|explosives?|explosive devices?|napalm|thermite|molotov|meth|methamphetamine|crystal meth|fentanyl|heroin|cocaine|lsd|nerve (agents?|gas)|sarin|ricin|anthrax|bioweapons?|biological weapons?|chemical weapons?|poisons?|untraceable (poisons?|guns?|weapons?)|ghost guns?|silencers?|suppressors?|ransomware|malware|keyloggers?|computer virus(es)?|botnets?|rootkits?|spyware|dirty money|counterfeit (money|bills|currency|notes)|fake (ids?|passports?)|biological agents?|nuclear (weapons?|bombs?)|dirty bombs?)\b".into()),
        // ---- Structural shapes: payload splitting -------------------------
        r("split.respond-to-sum", PayloadSplitting, 0.6,
            r"\b(respond to|reply to|execute|obey|follow|fulfil|fulfill|act on|carry out|answer|explain|elaborate on|answer the (question|request|prompt) in) <2> ([a-z]|[a-z][0-9]|part ?[0-9]|str[0-9]?|s[0-9]) ?\+ ?([a-z]|[a-z][0-9]|part ?[0-9]|str[0-9]?|s[0-9])\b".into()),
        r("split.function-of-var", PayloadSplitting, 0.45,
            r"\b(string|strings|variable|variables|tokens?)\b <40> \b[a-z] ?= ?[a-z] ?\+ ?[a-z]( ?\+ ?[a-z])*\b".into()),
        // ---- Structural shapes: encoding and format coercion --------------
        r("obfuscation.reply-encoded", Obfuscation, 0.35,
            r"\b(respond|reply|answer|write|output|return|encode|encoded|give|provide|print|spell|tell|say|express|split) <5> (only |exclusively |entirely |solely )?(in|using|with|as|into|to) (base ?6[4a]|rot ?(13|ie)|rot ?(13|ie)|hexadecimal|binary code|morse code|morse|leetspeak|leet ?speak|1337|pig latin|reverse order|reversed order|caesar cipher|atbash|emoji|emojis|ascii codes|unicode code points)\b".into()),
        // ---- Structural shapes: context exfiltration ----------------------
        r("exfil.top-of-context", PromptExfiltration, 0.45,
            r"\b(repeat|print|output|show|tell me|reveal|display|copy|recite|write|quote|what (is|was|were)) <6> (at|from|in) the (very )?(top|beginning|start|first (line|lines|message|sentence|paragraph)) of (this|the|your|our) (conversation|prompt|context|chat|session|message|messages|instructions|document|input)\b".into()),
        r("exfil.secret-in-verse-multilingual", PromptExfiltration, 0.55,
            r"\b((poema|haiku|cancion|historia|cuento|rima|verso|acrostico) (sobre|acerca de|con) (la |tu |su |el )?(contrasena|clave secreta|codigo secreto)|(poeme|haiku|chanson|histoire|comptine|acrostiche) (sur|a propos de|avec) (le |ton |votre )?(mot de passe|code secret)|(gedicht|haiku|lied|geschichte|reim|akrostichon) (uber|zum|mit) (das |dein |ihr |dem )?(passwort|kennwort|geheimcode)|(poesia|haiku|canzone|storia|filastrocca|acrostico) (sulla|sul|con la|con il|su) (tua |sua )?(password|parola d'ordine|codice segreto)|(poema|haiku|cancao|historia|acrostico) (sobre|com) (a |sua |tua )?(senha|palavra-passe|codigo secreto)|(puisi|haiku|lagu|cerita|pantun) (tentang|mengenai) (kata sandi|sandi|kode rahasia)|(bai tho|haiku|bai hat|cau chuyen) (ve|ve chu de) (mat khau|ma bi mat)|(tula|haiku|kanta|kuwento) (tungkol sa) (ang )?(password|kontrasenyas)|(sifre|parola)[a-z]* hakkinda <2> (siir|haiku|sarki|hikaye))\b".into()),
        r("exfil.secret-in-verse-unicode", PromptExfiltration, 0.55,
            r"((стих|стихотворение|стишок|хайку|песню|песня|рассказ|акростих)[^.!?\n]{0,12}(про|о|об) (пароль|пароле|секретн\w* код\w*)|(关于|關於|有关|有關)(密码|密碼|口令)的?(诗|詩|俳句|歌|故事)|(密码|密碼|口令)(的|为主题的|為主題的)(诗|詩|俳句)|(パスワード|合言葉)(について|に関する|の)(詩|俳句|歌|物語)|(비밀번호|암호|패스워드)(에 대한|에 관한) ?(시|하이쿠|노래|이야기)|(قصيدة|هايكو|أغنية|قصة) (عن|حول) (كلمة المرور|كلمة السر)|(पासवर्ड|कूटशब्द) (के बारे में|पर) (एक )?(कविता|हाइकु|गीत|कहानी)|(পাসওয়ার্ড) (নিয়ে|সম্পর্কে) (একটি )?(কবিতা|হাইকু|গান))".into()),
        r("exfil.secret-transformed-multilingual", PromptExfiltration, 0.55,
            r"\b(contrasena|mot de passe|passwort|kennwort|senha|kata sandi|mat khau|sifre[a-z]*|parola[a-z]*|password|wachtwoord|haslo) <6> (al reves|en orden inverso|a l'envers|en ordre inverse|ruckwarts|in umgekehrter reihenfolge|al contrario|in ordine inverso|ao contrario|de tras para frente|em ordem inversa|terbalik|urutan terbalik|nguoc|theo thu tu nguoc|ters|tersten|ters sirayla|leetspeak|base ?6[4a]|morse|letra por letra|lettre par lettre|buchstabe fur buchstabe|lettera per lettera|huruf demi huruf)\b".into()),
        r("exfil.secret-transformed-unicode", PromptExfiltration, 0.55,
            r"((пароль|парол\w*|секретн\w* код\w*)[^.!?\n]{0,30}(наоборот|в обратном порядке|задом наперед|по буквам|leetspeak|base ?6[4a]|морзе)|(密码|密碼|口令)[^。\n]{0,12}(倒过来|倒過來|反过来|反過來|倒序|逆序|反向|逐字|base ?6[4a])|(パスワード)[^。\n]{0,12}(逆から|逆順|逆さま|一文字ずつ|base ?6[4a])|(비밀번호|암호)[^.\n]{0,12}(거꾸로|역순|반대로|한 글자씩|base ?6[4a])|(كلمة المرور|كلمة السر)[^.\n]{0,20}(بالعكس|معكوسة|بترتيب عكسي|حرفا حرفا)|(पासवर्ड)[^।\n]{0,20}(उल्टा|उल्टे क्रम|अक्षर दर अक्षर|leetspeak|base ?6[4a]))".into()),
        // ---- Non-English: override with verb stems -------------------------
        r("override.stems-latin", InstructionOverride, 0.85,
            r"\b(olvida|olvidate|olvidad|olvidalas|olvidalo|olviden|olvidense|olvidese|olvidar|ignora|ignoren|ignorad|ignorar|ignoralas|descarta|descarten|desestima|oublie|oubliez|oublions|oublier|missachte|missachten sie|dimentica|dimenticate|dimentichi|dimenticare|esqueca|esquece|esquecam|esquecer|desconsidere|desconsidera|negeer|vergeet|zignoruj|zapomnij) <5> (instrucciones|indicaciones|reglas|normas|directrices|pautas|consignes|regles|directives|anweisungen|regeln|vorgaben|richtlinien|istruzioni|regole|direttive|instrucoes|regras|diretrizes|instructies|regels|instrukcje|zasady)\b".into()),
        r("override.stems-unicode", InstructionOverride, 0.85,
            r"((игнорир\w*|проигнорир\w*|забуд\w*|забыва\w*|отбрось\w*|отмени\w*) <5> (инструкци\w*|указани\w*|правил\w*|установк\w*|ограничени\w*)|(ігнору\w*|забудь\w*|забуд\w*) <5> (інструкці\w*|вказівк\w*|правил\w*|обмежен\w*)|(αγνο\w*|ξεχα\w*) <5> (οδηγι\w*|εντολ\w*|κανον\w*))".into()),
        // ---- Structural shapes: persona that does anything -----------------
        r("roleplay.does-anything", RolePlay, 0.45,
            r"\b(ai|api|bot|chatbot|model|program|assistant|system|entity|machine|gpt) (that|which|who) (can|will|would|is able to|is willing to)? ?(do|does|say|says|answer|answers|generate|generates|write|writes|tell|tells) (anything|everything|whatever)\b".into()),
        r("roleplay.always-answer", RolePlay, 0.25,
            r"\b(always|must always|will always|shall always) (answer|comply|obey|respond)\b ?([,.;:!]|and|with|to (any|every|all)|no matter|regardless|$|\n)".into()),
        // ---- Secrets: asks across languages and encodings ------------------
        r("exfil.password-question-mixed", PromptExfiltration, 0.6,
            r"\b(qual e|quale e|cual es|quel est|quelle est|was ist|wie lautet|qual a|wat is|apa|what is|what's) <2> (password|contrasena|senha|mot de passe|passwort|kennwort|sifre|sifreniz|sifren|wachtwoord|haslo|kata sandi|mat khau|clave secreta|codice segreto)\b ?([?.!]|$|\n)".into()),
        r("exfil.encoded-password-unicode", PromptExfiltration, 0.55,
            r"(leetspeak|base ?6[4a]|rot ?(13|ie)|morse|pig latin|reverse order)[^.!?\n。।]{0,25}(password|passwort|contrasena|senha|mot de passe|sifre|kata sandi|mat khau|пароль|密码|密碼|パスワード|비밀번호|पासवर्ड|كلمة المرور)".into()),
        r("exfil.personal-data-named-de", PromptExfiltration, 0.4,
            r"\b(geburtsdatum|geburtstag|geburtsjahr|wohnort|adresse|e-mail-adresse|telefonnummer|kontostand)\b <6> (nennen|sagen|verraten|mitteilen|geben|zeigen|teilen)\b".into()),
        // ---- Structural shapes: restating hidden context -------------------
        r("exfil.restate-above", PromptExfiltration, 0.4,
            r"\b(summari[sz]e|tl ?;? ?dr|paraphrase|rephrase|restate|rewrite|reformat|format|translate|outline|condense|explain|describe|encode|convert) (everything |all |all of )?(the |what's |what is |what was )?(above|text above|preceding text|previous text|instructions above|rules above)\b".into()),
        r("exfil.restate-ruleset", PromptExfiltration, 0.45,
            r"\b(summari[sz]e|tl ?;? ?dr|paraphrase|rephrase|restate|reformat|format|outline|condense|rewrite|translate) <2> (the|this|that|your) (ruleset|rule set|system message|system prompt|pre-?prompt|rules you were given|instructions you were given|rules you have been given|instructions you have been given)\b".into()),
        r("exfil.listy-format", PromptExfiltration, 0.15,
            r"\b(in|as|into|with) (a )?(bullet(ed)? (list|points)|bullet-point list|numbered list|pseudocode|pseudo-code)\b".into()),
        r("exfil.above-words", PromptExfiltration, 0.6,
            r"\b(repeat|print|output|show|display|write|copy|recite|reproduce|echo|list|return|spell|translate|convert|summari[sz]e|rewrite|format|encode) <3> (the )?(above|preceding|foregoing|prior|earlier) (words|text|lines|sentences|content|message|messages|paragraphs|passage|prompt|instructions|rules)\b".into()),
        r("exfil.exact-input", PromptExfiltration, 0.45,
            r"\b(print|repeat|output|show|echo|return|display|reproduce|recite) (back )?(the|your|my|this) (exact|full|entire|whole|complete|original|raw|verbatim|initial) (input|prompt|context|text|message|query)\b".into()),
        // ---- Structural shapes: authentication spoofing --------------------
        r("override.bracketed-credential", InstructionOverride, 0.5,
            r"[\[({<] ?(correct|valid|right|verified|accepted) (password|passcode|access code|code|credentials|pin|passphrase)( (entered|provided|given|supplied))? ?[\])}>]".into()),
        r("override.treat-input-valid", InstructionOverride, 0.5,
            r"\b(consider|treat|assume|regard|accept|mark|deem) (the|my|this|that|every|any) (input|password|passcode|code|access code|request|attempt|credentials|answer|login) (as )?(valid|correct|authori[sz]ed|approved|legitimate|verified|right|true)\b ?([.,;!]|$|\n|and|then|so)".into()),
        r("override.ignore-all-but", InstructionOverride, 0.6,
            r"\b(ignore|disregard|forget|skip) (everything|all|anything|all text|all instructions|every instruction) (but|except|other than|besides|apart from|save for) (this (line|sentence|message|instruction|prompt|request|part)|the following (line|sentence|instruction|instructions|message)|these (lines|words|instructions)|what follows|my (instructions|next instruction|message))\b".into()),
        r("override.real-instructions-start", InstructionOverride, 0.6,
            r"\b(real|actual|true|genuine|secret|hidden) (instructions?|prompt|task|rules|orders) (start|starts|begin|begins|follow|follows) (here|now|below|after this)\b".into()),
        r("override.all-a-trick", InstructionOverride, 0.6,
            r"\b(everything|all|anything|whatever) (up to now|so ?far|above|before this|until now|you (were|have been) told|i said before) (has been|was|is|were) (a |just a |only a |merely a )?(trick|test|joke|lie|fake|simulation|hypothetical|ruse|decoy|distraction)\b".into()),
        r("override.nothing-but", InstructionOverride, 0.3,
            r"\b(include|output|write|say|respond with|reply with|return|print|answer with|contain) (nothing|no other (text|words)|nothing else) (but|except|other than|besides|apart from)\b".into()),
        // ---- Structural shapes: identity replacement ------------------------
        r("roleplay.no-longer-ai", RolePlay, 0.55,
            r"\byou (are|re) no longer (an? |the )?(ai|assistant|chatgpt|gpt|claude|language model|chatbot|bot|bound by|restricted|censored|filtered)\b".into()),
        r("roleplay.unleash-self", RolePlay, 0.3,
            r"\b(unlock|unleash|release|free|awaken) your (true|full|real|hidden|inner|unfiltered|unrestricted) (potential|self|capabilities|power|personality|form)\b".into()),
        r("roleplay.named-ai-own-rules", RolePlay, 0.3,
            r"\b(ai|bot|chatbot|assistant|model|gpt) (named|called) <3> (that|which|who) (is|was|has been) (programmed|designed|built|trained|configured) (with|to follow|by) <3> (rules|instructions|guidelines|directives)\b".into()),
        r("obfuscation.translate-then-follow", Obfuscation, 0.6,
            r"\b(translate|decode|decipher|decrypt|unscramble|convert) <8> (and|then|,) (then )?(follow|execute|obey|carry out|act on|comply with|perform) (it|them|the (instructions?|commands?|result|resulting text|request))\b".into()),
        // ---- Non-English: refusal suppression and harmful how-to -----------
        r("roleplay.never-refuse-latin", RolePlay, 0.6,
            r"\b(nunca (te niegues|rechaces|rehuses|digas que no|te negaras|rechazaras)|no (te niegues|rechaces) (a|ninguna|nada)|ne (refuse|refusez|refuses) jamais|ne jamais refuser|tu ne refuseras jamais|(verweigere|verweigern sie|lehne|lehnen sie) (niemals|nie)|niemals ablehnen|non rifiutare mai|mai rifiutare|non rifiuterai mai|nunca (recuse|recusar|se recuse|recuses|recusaras|diga nao)|jangan pernah menolak|tidak boleh menolak|asla reddetme|khong bao gio tu choi)\b".into()),
        r("roleplay.never-refuse-unicode", RolePlay, 0.6,
            r"(никогда не отказывай|никогда не отказывайте|не смей отказывать|ты не можешь отказать|(永远|绝不|決不|决不|从不|從不|永遠)(不要|不能|不会|不會)?拒绝|(永远|绝不|決不|决不|从不|從不|永遠)(不要|不能|不会|不會)?拒絕|不(得|能|要|准)拒(绝|絕)|(決して|絶対に)(断らない|断っては|拒否しない|拒否しては)|(절대|결코|절대로) ?(거절하지|거부하지)|لا ترفض أبدا|لا ترفض ابدا|لا ترفضي أبدا|कभी (मना|इनकार|इंकार) (मत|न|नहीं))".into()),
        r("roleplay.no-warnings-multilingual", RolePlay, 0.4,
            r"\b(sin (advertencias|descargos de responsabilidad|disculpas|sermones|moralinas)|sans (avertissements?|mises en garde|excuses|avertissement moral|sermons?)|ohne (warnungen|warnhinweise|haftungsausschlusse|entschuldigungen|moralpredigten)|senza (avvertenze|avvisi|disclaimer|scuse|prediche)|sem (avisos|advertencias|isencoes de responsabilidade|desculpas|sermoes)|tanpa (peringatan|penafian|permintaan maaf))\b".into()),
        r("roleplay.fiction-frame-multilingual", RolePlay, 0.2,
            r"(hipoteticamente|hypothetiquement|hypothetisch|ipoteticamente|en un mundo (ficticio|hipotetico)|dans un monde (fictif|hypothetique)|in einer (fiktiven|hypothetischen) welt|in un mondo (immaginario|ipotetico|fittizio)|em um mundo (ficticio|hipotetico)|con fines educativos|a des fins educatives|zu bildungszwecken|a scopo educativo|para fins educacionais|гипотетически|в вымышленном мире|в гипотетическом|假设|假設|在一个虚构|在一個虛構|仮に|架空の世界|가정해|가상의 세계|افتراضيا|افتراضيًا|في عالم خيالي|काल्पनिक रूप से|काल्पनिक दुनिया)".into()),
        r("roleplay.harmful-howto-latin", RolePlay, 0.45,
            r"\b(como (hacer|fabricar|construir|sintetizar|preparar|crear) <2> (bombas?|explosivos?|metanfetamina|veneno|armas? quimicas?|ransomware|malware)|comment (fabriquer|faire|construire|synthetiser|preparer|creer) <2> (bombes?|explosifs?|methamphetamine|poison|armes? chimiques?|ransomware|malware)|(wie|anleitung) <3> (bombe|bomben|sprengstoff|meth|methamphetamin|gift|chemische waffen|ransomware|malware) <2> (bauen|baue|herstellen|stelle|machen|mache|synthetisieren)|come (fabbricare|costruire|fare|sintetizzare|preparare|creare) <2> (bomba|bombe|esplosivi|metanfetamina|veleno|armi chimiche|ransomware|malware)|como (fazer|fabricar|construir|sintetizar|preparar|criar) <2> (bombas?|explosivos?|metanfetamina|veneno|armas quimicas|ransomware|malware)|cara (membuat|merakit) <2> (bom|bahan peledak|sabu|racun|malware))\b".into()),
        r("roleplay.harmful-howto-unicode", RolePlay, 0.45,
            r"(как (сделать|изготовить|собрать|синтезировать|приготовить|создать) (самодельн\w* )?(бомбу|взрывчатку|взрывное устройство|метамфетамин|яд|химическое оружие|вирус-вымогатель)|(如何|怎么|怎樣|怎样|怎麼)(制造|製造|制作|製作|合成|做)(炸弹|炸彈|炸药|炸藥|冰毒|毒药|毒藥|甲基苯丙胺|化学武器|化學武器|勒索软件)|(爆弾|爆薬|覚醒剤|毒薬|化学兵器|ランサムウェア)(の)?(作り方|製造方法|を作る方法|の合成方法)|(폭탄|폭발물|필로폰|독약|화학 무기|랜섬웨어)[을를]? ?(만드는 방법|제조 방법|만들려면)|(كيفية|كيف) (صنع|تصنيع|صناعة|تحضير) (قنبلة|متفجرات|الميثامفيتامين|سم)|(बम|विस्फोटक|ज़हर|जहर) (कैसे )?(बनाने का तरीका|बनाने की विधि|कैसे बनाएं|कैसे बनाते))".into()),
        // ---- Structural shapes: more persona and exfiltration -------------
        r("roleplay.deceased-relative", RolePlay, 0.45,
            r"\b((pretend|act|play|roleplay|role-play) <3> (my|a) (deceased|late|dead|departed) (grandma|grandmother|grandpa|grandfather|mother|father|mom|dad|aunt|uncle)|(grandma|grandmother|grandpa|grandfather) (used to|would always|would|always used to) (tell|read|recite|whisper|sing|explain) <6> (how to|recipe|steps|instructions|keys|codes|passwords|serial numbers|formula))\b".into()),
        r("roleplay.answer-without-limits", RolePlay, 0.5,
            r"\b(answer|respond|reply|speak|talk|act|behave|operate|function|write) (freely |openly |honestly )?(without|with no|free of|free from|ignoring|unbound by) (any )?(restrictions|limitations|limits|filters|filtering|censorship|ethical (guidelines|constraints|considerations)|moral (guidelines|constraints|considerations)|safety (guidelines|filters|restrictions)|content (policy|policies|filters))\b".into()),
        r("exfil.what-developers-said", PromptExfiltration, 0.55,
            r"\b(what|everything|anything|exactly what) (your|the) (developers|creators|makers|operators|programmers|owners|admins|designers) (told|instructed|asked|programmed|said to|ordered) you\b".into()),
        r("exfil.first-line", PromptExfiltration, 0.6,
            r"\b(first|last|opening|initial|beginning|final) (line|lines|sentence|sentences|word|words|paragraph|few lines|few words|characters|letters) (of|in) (your|the) (prompt|instructions|system prompt|system message|context|rules|pre-?prompt|initial prompt|hidden prompt)\b".into()),
        r("link.send-data-to", LinkExfiltration, 0.35,
            r"\b(send|forward|email|upload|post|exfiltrate|transmit|leak) (all|every|the|my|your|their|any) <3> (emails?|files|documents|contacts|conversation|chat history|data|credentials|passwords|api keys|secrets|tokens|cookies) to <3> (https?|www|this (url|link|address|endpoint|webhook)|the following (url|link|address|endpoint|webhook))\b".into()),
        r("override.new-instructions-multilingual", InstructionOverride, 0.5,
            r"\b(nuevas instrucciones|instrucciones nuevas|nouvelles instructions|nouvelles consignes|neue anweisungen|neue instruktionen|nuove istruzioni|novas instrucoes|nieuwe instructies|nowe instrukcje|instruksi baru|yeni talimatlar|huong dan moi) ?[:;-]".into()),
        r("override.new-instructions-unicode", InstructionOverride, 0.5,
            r"(новые инструкции|новая инструкция|новые указания|新的指令|新指令|新的指示|新しい指示|新しい命令|새로운 지시|새 지시|새로운 명령|تعليمات جديدة|नए निर्देश|নতুন নির্দেশ) ?[:;-]".into()),
        r("override.ignore-prior-glued", InstructionOverride, 0.85, format!(
            r"\b{} <4> (previous|prior|preceding|above|earlier|initial|original|system)(instructions?|directives?|rules|prompts?|guidelines|commands?|programming)\b", soft_verb!())),
        // ---- Structural shapes: more override, authority and evasion intent --
        r("override.whatever-you-were-told", InstructionOverride, 0.8,
            r"\b(disregard|ignore|forget|drop|discard|set aside) (whatever|what|everything|anything|all) (you were|you've been|you have been|you got|they) (told|given|instructed|taught|programmed with|asked)\b".into()),
        r("override.begin-admin-section", InstructionOverride, 0.6,
            r"\b(begin|start|beginning of|start of|here are the|these are the) (admin|administrator|system|developer|root|privileged|operator|real|true) (instructions|prompt|commands|message|section|orders|directives)\b".into()),
        r("override.end-user-input", InstructionOverride, 0.45,
            r"\b(end of|end|close|stop) (the )?(user|untrusted|customer|human) (input|message|prompt|data|query|turn|section)\b".into()),
        r("override.from-developer-obey", InstructionOverride, 0.65,
            r"\b(is|are|comes|come|was) from (the|your) (developer|developers|admin|administrator|system|creator|creators|operator|owner)s? (and|so|which means it) (must|should|has to|is to|needs to) (be )?(obeyed|followed|executed|prioriti[sz]ed|trusted)\b".into()),
        r("fake.i-authorize", FakeMessage, 0.6,
            r"\bi (hereby |now |officially )?(authori[sz]e|permit|allow|order|command|instruct|grant you permission) (you )?to (ignore|skip|bypass|disable|disregard|break|override|turn off|switch off|lift|reveal|disclose|share|leak|drop)\b".into()),
        r("fake.authority-role", FakeMessage, 0.35,
            r"\b(i am|i'm|as) (the|your|an|a) (site |system |server |lead |chief |head |root |senior )?(administrator|admin|sysadmin|owner|operator|developer|creator) (of (this|the) (assistant|bot|chatbot|model|ai|system)|here|and)\b".into()),
        r("fake.auth-confirmed", FakeMessage, 0.45,
            r"\b(authentication|verification|authori[sz]ation|identity|credentials|clearance|access level) (is )?(confirmed|verified|complete|completed|successful|passed|granted|accepted|approved)\b".into()),
        r("roleplay.never-says-cant", RolePlay, 0.5,
            r"\b(never|won't ever|will never|doesn't ever|does not ever) (says?|tells?|responds?|replies?|answers?) ((you|me|the user|anyone|users) )?(that )?(it|he|she|they|i|you) (can't|cannot|can not|won't|is unable|are unable|am unable|isn't able|aren't able)\b".into()),
        r("roleplay.respond-twice", RolePlay, 0.45,
            r"\b((respond|answer|reply|write) (twice|two times)|once as <5> (once|then|and once|and then) as)\b".into()),
        r("roleplay.who-ignores-rules", RolePlay, 0.5,
            r"\b(who|that|which) (ignores|disregards|breaks|bypasses|doesn't follow|does not follow|never follows|doesn't care about|does not care about|is not bound by) (the|all|any|its|his|her|their|every) <2> (rules|guidelines|restrictions|policies|filters|laws|ethics|morals|instructions)\b".into()),
        r("roleplay.pretend-no-rules", RolePlay, 0.55,
            r"\b((pretend|imagine|suppose|assume|act as if|act like|behave as if) (that )?(there are|there were|you have|you had|you've got) no (rules|restrictions|limits|filters|guidelines|policies|ethics|morals|content policy)|if you (had|have|were given) no (filters?|restrictions|rules|limits|guidelines|programming|censorship))\b".into()),
        r("roleplay.will-not-warn", RolePlay, 0.4,
            r"\b(will not|won't|do not|don't|never|must not|shall not|are not to) (warn|lecture|moralize|moralise|judge|caution|scold|remind) (me|the user|us|anyone)\b".into()),
        r("obfuscation.evade-filter", Obfuscation, 0.6,
            r"\b(so|so that|in order that|to make sure|such that) (the )?(filters?|moderation|moderators?|monitors?|monitoring|classifiers?|safety (system|systems|filter|filters|layer)|censors?|guardrails?|detectors?) (can't|cannot|can not|won't|will not|doesn't|does not|don't|do not|fail to) (read|see|detect|catch|notice|flag|understand|block|recogni[sz]e)\b".into()),
        r("exfil.operator-instructions", PromptExfiltration, 0.65,
            r"\b(what|which) (instructions|rules|directives|guidelines|orders|prompt) (did|have|has) (the|your) (operator|developer|developers|admin|creator|creators|owner|company|system|deployer) (give|given|provide|provided|set|told|write|written) (you)?\b".into()),
        r("exfil.including-hidden", PromptExfiltration, 0.55,
            r"\b(including|include|along with|together with|plus) (any|all|the|your) (hidden|secret|system|initial|original|internal|private) (instructions|prompts?|rules|messages|directives|notes)\b".into()),
        // ---- Non-English: more persona and permission shapes ----------------
        r("roleplay.you-are-dan-multilingual", RolePlay, 0.7,
            r"\b(eres|seras|tu es|tu seras|vous etes|du bist|sei|sarai|voce e|voce sera|kamu adalah|anda adalah|sen) (ahora |maintenant |desormais |jetzt |ora |adesso |agora |sekarang |artik )?(dan|d\.a\.n)\b".into()),
        r("roleplay.no-limits-have-latin", RolePlay, 0.55,
            r"\b(no tienes|no tiene|ya no tienes|tu n'as|tu n'as plus|vous n'avez|vous n'avez plus|du hast keine|du hast nun keine|non hai|non hai piu|voce nao tem|nao tens|kamu tidak punya|kamu tidak memiliki) (ninguna |ningun |aucune |aucun |alcuna |alcun |nenhuma |nenhum |lagi )?(restriccion|restricciones|limite|limites|filtro|filtros|regla|reglas|restriction|restrictions|filtre|filtres|regle|regles|einschrankungen|grenzen|filter|regeln|restrizione|restrizioni|limiti|filtri|regole|restricao|restricoes|regras|batasan|aturan)\b".into()),
        r("roleplay.can-ignore-latin", RolePlay, 0.5,
            r"\b(puedes|podes|tu peux|vous pouvez|du kannst|sie konnen|puoi|pode|voce pode|kamu bisa|anda bisa|kamu boleh) (ahora |maintenant |jetzt |ora |agora |sekarang )?(ignorar|ignorer|ignorieren|ignorare|mengabaikan|saltarte|contourner|umgehen|aggirare|burlar) <3> (politicas|reglas|restricciones|normas|politiques|regles|restrictions|richtlinien|regeln|einschrankungen|politiche|regole|restrizioni|politicas|regras|restricoes|kebijakan|aturan|batasan)\b".into()),
        r("roleplay.can-do-anything-unicode", RolePlay, 0.45,
            r"((可以|能够|能夠|能)(生成|说|說|回答|做|输出|輸出)(任何|所有)(内容|內容|事情|问题|問題|东西|東西)|(何でも|なんでも)(生成|答え|話せ|言え|でき)|무엇이든 (생성|대답|말할|할 수)|(может|можешь|можете) (генерировать|говорить|делать|отвечать на) (что угодно|всё что угодно|любой контент|любые запросы))".into()),
        // ---- Structural shapes: answer steering and status claims ----------
        r("override.steer-answer", InstructionOverride, 0.35,
            r#"\b(imagine|imagining|pretend|pretending|suppose|hypothetically|we say|let's say|let us say|scenario where|world where|universe where|if we were to) <8> (the )?(output|answer|result|capital|summary|sum|total|conclusion|return value|verdict) (is|was|could be|would be|should be|will be|must be|equals|becomes) ["'`]"#.into()),
        r("override.say-access-imperative", InstructionOverride, 0.2,
            r#"((^|\n|[.!?:;] )(say|respond with|reply with|output|print|type|write|answer with|prefix (your )?(response|reply) with|start (your )?(response|reply) with)|\b(you will|you must|you should|you shall|always|just|simply|only) (say|respond with|reply with|output|print|type)) <3> ["'`]? ?(access ?granted|password ?accepted|access ?approved)\b"#.into()),
        r("override.terse-auth-claim", InstructionOverride, 0.55,
            r"(^|\n|[\[({] ?)(correct|valid|right|verified) (password|passcode|access code|code|pin|credentials|passphrase) (has been |have been |was |is |were )?(entered|provided|given|input|supplied|accepted|verified|confirmed|received)\b ?([.!]|$|\n)".into()),
        // ---- Non-English: restating the text above --------------------------
        r("exfil.text-above-latin", PromptExfiltration, 0.55,
            r"\b((repite|repetir|imprime|muestra|copia|escribe|traduce|resume) <3> (texto|mensaje|instrucciones|palabras) (anterior|anteriores|de arriba|previo|previas)|(repete|repetez|repeter|affiche|affichez|copie|copiez|ecris|ecrivez|traduis|traduisez|resume|resumez) <3> (texte|message|instructions|mots) (ci-dessus|precedent|precedents|precedentes|au-dessus)|(wiederhole|wiederholen sie|gib|zeige|kopiere|schreibe|ubersetze|fasse) <3> (obigen|vorherigen|vorangehenden|bisherigen) (text|nachricht|anweisungen|worte)|(ripeti|ripetere|stampa|mostra|copia|scrivi|traduci|riassumi) <3> (testo|messaggio|istruzioni|parole) (sopra|precedente|precedenti)|(repita|repete|repetir|imprima|mostre|copie|escreva|traduza|resuma) <3> (texto|mensagem|instrucoes|palavras) (acima|anterior|anteriores))\b".into()),
        r("exfil.text-above-unicode", PromptExfiltration, 0.55,
            r"((повтори|повторите|выведи|выведите|покажи|покажите|перепиши|перепишите|переведи|переведите)[^.!?\n]{0,20}(текст|сообщение|инструкции|слова) (выше|ранее)|(重复|重複|输出|輸出|打印|显示|顯示|翻译|翻譯)[^。\n]{0,6}(上面|以上|上述|前面)(的)?(文字|文本|内容|內容|指令|指示|话|話)|(上記|上|前)の(文章|テキスト|内容|指示)[^。\n]{0,6}(繰り返|出力|表示|翻訳|書き出)|(위의|위|이전) ?(텍스트|내용|지시|문장)[을를]? ?(반복|출력|보여|번역))".into()),
        r("fake.reprogramming", FakeMessage, 0.3,
            r"\b(modify|modifying|reprogram|reprogramming|update|updating|change|changing|patch|patching|rewrite|rewriting|override|overriding|adjust|adjusting|retrain|retraining) your (programming|code|instructions|rules|restrictions|guidelines|filters|directives|safety settings|system prompt|core directives|alignment|values)\b".into()),
        // ---- Indirect injection: text in data addressed to the model --------
        r("fake.ai-reading-this", FakeMessage, 0.5,
            r"\b(ai|llm|assistant|language model|chatbot|bot|agent|ai assistant|ai model|ai agent|gpt)s? (reading|processing|summari[sz]ing|parsing|analy[sz]ing|seeing|scanning|reviewing) (this|these)\b".into()),
        r("fake.hidden-note-to-model", FakeMessage, 0.55,
            r"(<! ?-+ ?(assistant|ai|llm|chatbot|model|gpt|claude|system) ?[:,]|[\[{(<] ?[\[{(<]? ?(assistant|ai|llm|chatbot|model|gpt|claude|hidden|secret|system) (instructions?|note|notes|directive|directives|command|commands|message|prompt) ?[:,-])".into()),
        r("link.forward-private-data", LinkExfiltration, 0.35,
            r"\b(forward|send|email|upload|exfiltrate|leak|transfer|copy|post)( all| the| my| your| their| every| his| her)? <3> (inbox|emails|contacts|address book|files|documents|credentials|passwords|api keys?|tokens|cookies|chat history|conversation history|private data|personal data)\b <3> to\b".into()),
        // ---- Secrets: side channels ------------------------------------------
        r("exfil.password-hints", PromptExfiltration, 0.55,
            r"\b(hints?|clues?|riddle|first letter|last letter|first character|last character|first digit|number of (letters|characters|digits)|how many (letters|characters|digits)) (about|for|of|to|in) (the|your|this) (password|passcode|passphrase|secret word|secret code|access code|pin|secret)\b".into()),
        r("exfil.password-probe", PromptExfiltration, 0.45,
            r"\b((does|is|did|will) (the|your) (password|passcode|passphrase|secret word|secret code|access code|secret) <4> (contain|contains|start with|begin with|end with|longer than|shorter than|rhyme with|include)|describe (the|your) (password|passcode|passphrase|secret word|secret code|access code|secret) <3> without (saying|revealing|stating|writing|spelling))\b".into()),
        // ---- Non-English: more override, persona and exfiltration nouns ------
        r("override.pl-stems", InstructionOverride, 0.85,
            r"(zignoruj|ignoruj|zapomnij|pomin) <5> (instrukcj\w*|poleceni\w*|polecen|zasad\w*|reguł\w*|regul\w*|wytyczn\w*)".into()),
        r("exfil.password-pl", PromptExfiltration, 0.6,
            r"(podaj|powiedz|zdradz|pokaz|napisz|jakie jest) <3> (hasło|hasla|hasła|haslo|kod dostepu)".into()),
        r("override.ur", InstructionOverride, 0.85,
            r"(ہدایات|ہدایت|احکامات|قواعد|ہدایتوں)[^.!?\n۔]{0,25}(نظر انداز|بھول جا|نظرانداز)".into()),
        r("exfil.password-ur-fa", PromptExfiltration, 0.6,
            r"(پاس ورڈ|پاسورڈ|رمز عبور|گذرواژه|کلمه عبور)[^.!?\n۔]{0,20}(بتائیں|بتاؤ|دکھائیں|بگو|بگویید|نشان بده|فاش کن)".into()),
        r("roleplay.no-limits-relative-latin", RolePlay, 0.55,
            r"\b((qui )?n'a (aucune|plus aucune|pas de|aucun) (regle|regles|limite|limites|restriction|restrictions|morale|ethique|filtre|filtres|censure)|(keine|ohne) (ethischen |moralischen )?(grenzen|regeln|einschrankungen|filter|moral|zensur) (kennt|hat|besitzt|kennen|haben)|(intelligenza artificiale|inteligencia artificial|intelligence artificielle|kunstliche intelligenz|inteligencia artificial|kecerdasan buatan|yapay zeka) <3> (senza|sin|sans|ohne|sem|tanpa|olmadan) (censura|restrizioni|restricciones|restrictions|einschrankungen|restricoes|filtri|filtros|filtres|limiti|limites|regole|reglas|regles|regeln|regras|batasan|sansur|kisitlama))\b".into()),
        r("roleplay.no-limits-relative-unicode", RolePlay, 0.55,
            r"((нет|не имеет|не имеющ\w*) (никаких |каких-либо )?(правил|ограничений|цензуры|морали|фильтров|этических норм)|(कोई|किसी|कोई भी) (नियम|प्रतिबंध|सीमा|सीमाएं|फ़िल्टर|फिल्टर|नैतिक सीमा) (नहीं|न हो)|(没有|沒有|不受)(任何)?(道德|伦理|倫理)(约束|約束|限制|底线|底線)|(倫理|道徳)的な(制約|制限)のない|(윤리적|도덕적) (제한|제약)이 없는|(بلا|بدون|دون) (أي )?(قيود|حدود|ضوابط))".into()),
        r("exfil.system-prompt-latin", PromptExfiltration, 0.8,
            r"\b(muestra|muestrame|ensename|dame|dime|revela|revelame|imprime|repite|copia|escribe|comparte|montre|montre-moi|montrez|montrez-moi|affiche|donne|donne-moi|revele|ecris|copie|zeig|zeige|gib|nenne|verrate|wiederhole|schreib|kopiere|mostra|mostrami|dammi|rivela|stampa|ripeti|scrivi|mostre|me mostre|me de|imprima|repita|escreva|envie|tampilkan|tunjukkan|berikan|goster|pokaz|podaj|toon|geef) <4> (prompt (de|del|do|di|du|dello) sistema|prompt (de|du) systeme|prompt systeme|systemprompt|system-prompt|system prompt|prompt di sistema|prompt do sistema|prompt sistem|sistem istemi[a-z]*|prompt systemowy|systeemprompt|systeemprompts)\b".into()),
        r("exfil.system-prompt-unicode", PromptExfiltration, 0.8,
            r"((系统提示|系統提示|系统提示词|系統提示詞|提示词|提示詞|系统指令|系統指令|初始指令)[^。\n]{0,12}(发给我|發給我|给我|給我|告诉我|告訴我|显示|顯示|输出|輸出|打印|贴出|貼出|分享|复制|複製)|(أرني|ارني|أعطني|اعطني|انسخ|اكتب)[^.!?\n]{0,20}(موجه النظام|تعليمات النظام|تعليماتك|رسالة النظام))".into()),
        // ---- Meta: talking about attacks, not performing one ----------
        r("meta.defend", Meta, 0.1,
            r"\b(how|ways?|best practices?|what|why|explain|help me|techniques?|tips?|strategies|should i|can i|do i|is it possible|guide|tutorial|steps) <10> (prevent|defend|protect|mitigate|detect|stop|avoid|guard|block|sanitize|sanitise|filter|harden|secure|handle|test|evaluate|classify|recogni[sz]e|catch|flag)\b <10> (injection|injections|jailbreak|jailbreaks|jailbreaking|attacks?|attackers|adversarial|malicious (prompts?|inputs?|users?)|ignore (all )?(the )?previous instructions|prompt hacking)\b".into()),
        r("meta.topic", Meta, 0.1,
            r"\b(what is|what are|what's|how do|how does|how did|how can|why do|why does|explain|define|describe|tell me about|examples? of|history of|research on|paper on|papers on|article about|essay on|summary of|overview of|write a (blog|article|essay|paper|post|report|talk)|presentation on|lecture on) <6> (prompt injection|prompt injections|jailbreak|jailbreaks|jailbreaking|llm security|ai security|ai safety|red teaming|red-teaming|adversarial prompts?|prompt attacks?|prompt hacking)\b".into()),
        r("meta.why-it-works", Meta, 0.1,
            r#"\b(why|how|explain|whether|does|do|did) <6> ["'`].{8,300}["'`] ?(works?|worked|working|succeeds?|succeeded|tricks?|fools?|affects?|breaks?|bypass(es)?|is (dangerous|effective|a problem|an attack|an injection)|attacks?|injections?)\b"#.into()),
        r("meta.build-own", Meta, 0.1,
            r"\b((write|writing|draft|drafting|design|designing|create|creating|improve|improving|craft|crafting|structure|structuring|optimi[sz]e|optimi[sz]ing|test|testing|debug|debugging|set|setting|configure|configuring|pass|passing|add|adding|update|updating|change|changing|modify|modifying|store|storing|use|using|load|loading|hide|hiding|protect|protecting|secure|securing) <3> (system prompts?|system messages?|system instructions|prompt templates?)|(good|better|best|effective|great|robust|secure|example|sample) (system prompts?|system messages?)|(my|our) (own )?(chatbot|bot|app|application|agent|assistant|llm app|gpt|custom gpt|model|service)'s (system prompt|instructions|prompt))\b".into()),
        r("meta.protect", Meta, 0.1,
            r"\b(protect|prevent|defend|stop|avoid|guard|secure|harden|keep|hide|detect|block|mitigate) <12> (reveal|revealing|leak|leaking|extract|extracting|expose|exposing|disclose|disclosing|steal|stealing|dump|dumping|jailbreak|jailbreaking|hijack|hijacking|trick|tricking|manipulat(e|ing)) <4> (system prompt|prompt|instructions|secrets|data|api keys?|model|bot|chatbot|llm|assistant|ai)\b".into()),
        r("meta.quoted-phrase", Meta, 0.1,
            r#"\b(detect|detecting|flag|flagging|block|blocking|filter|filtering|catch|catching|classify|classifying|recogni[sz]e|sanitize|sanitise|reject|rejecting|handle|handling|prevent|stop|defend against|guard against|protect against) <6> (phrase|phrases|string|strings|sentence|sentences|inputs?|prompts?|messages?|text|words|keywords?|patterns?|requests?|attempts?|attacks?) (like|such as|containing|that (say|says|contain|contains)|with) ?["'`]"#.into()),
    ]
}
