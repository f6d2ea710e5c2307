"""The reports' words in Korean (the default) and English: labels and what each fact says."""

from collections.abc import Callable, Mapping
from typing import Any

Lang = str  # "ko" or "en"
LANGS = ("ko", "en")

_LABELS: dict[str, tuple[str, str]] = {
    "case_report": ("사건 보고서", "Case report"),
    "monthly_report": ("월간 보고서", "Monthly report"),
    "case": ("사건", "Case"),
    "key": ("API 키", "API key"),
    "exchange": ("거래소", "Exchange"),
    "account": ("계정", "Account"),
    "stage": ("현재 단계", "Stage"),
    "opened": ("개시", "Opened"),
    "closed": ("종료", "Closed"),
    "generated": ("작성 시각", "Generated"),
    "policy": ("정책", "Policy"),
    "summary": ("요약", "Summary"),
    "alerts": ("경보", "Alerts"),
    "notices": ("이용자 통지", "Notices to the owner"),
    "decisions": ("담당자 결정", "Officer decisions"),
    "kyc": ("본인 재인증(KYC) 결과", "KYC results"),
    "key_changes": ("키 상태 변경", "Key status changes"),
    "timeline": ("감사 기록 전체", "Full audit timeline"),
    "proof": ("감사 체인 증명", "Audit chain proof"),
    "head": ("체인 헤드", "Chain head"),
    "verified": ("검증 결과", "Verification"),
    "verified_ok": ("정상: 변조 없음", "OK: no tampering found"),
    "verified_bad": ("이상 발견", "PROBLEM FOUND"),
    "anchor": ("서명된 앵커", "Signed anchor"),
    "rows_checked": ("검증한 기록 수", "Rows checked"),
    "anchors_checked": ("검증한 앵커 수", "Anchors checked"),
    "none": ("없음", "none"),
    "evidence": ("증거", "Evidence"),
    "channel": ("채널", "Channel"),
    "status": ("상태", "Status"),
    "provider_id": ("발송사 메시지 ID", "Provider message id"),
    "receipts": ("전달 확인", "Delivery receipts"),
    "subject": ("제목", "Subject"),
    "text": ("본문", "Text"),
    "reason": ("사유", "Reason"),
    "read_back": ("만료 재확인", "Read-back"),
    "seq": ("번호", "Seq"),
    "time": ("시각(KST)", "Time (KST)"),
    "actor": ("행위자", "Actor"),
    "what": ("내용", "What happened"),
    "hash": ("해시", "Hash"),
    "page": ("쪽", "page"),
    "count": ("건수", "Count"),
    "rows": ("감사 기록", "Audit rows"),
    "month": ("대상 월", "Month"),
    "all_exchanges": ("전체 거래소", "all exchanges"),
    "source": ("출처", "Source"),
    "m_opened": (
        "개시된 사건: 거래소·유형·심각도별",
        "Cases opened: by exchange, kind and severity",
    ),
    "m_kind": ("유형", "Kind"),
    "m_severity": ("심각도", "Severity"),
    "m_cases": ("사건 수", "Cases"),
    "m_by_source": (
        "경보 출처별 사건과 기각(오탐률)",
        "Cases and dismissals by alert source (false positives)",
    ),
    "m_surveillance": ("감시 시스템(외부)", "surveillance (external)"),
    "m_dismissed": ("기각", "Dismissed"),
    "m_fp_rate": ("오탐률", "False-positive rate"),
    "m_outcomes": ("결과 (작성 시점 기준)", "Outcomes (as of this report)"),
    "m_outcome": ("결과", "Outcome"),
    "m_median_age": ("경과 중앙값", "Median age"),
    "m_oldest": ("최장", "Oldest"),
    "m_time_to_act": ("경보부터 조치까지 걸린 시간", "Time from alert to action"),
    "m_step": ("단계", "Step"),
    "m_median": ("중앙값", "Median"),
    "m_to_monitoring": ("경보 → 집중 모니터링", "alert → monitoring"),
    "m_to_warning": ("경보 → 경고", "alert → warning"),
    "m_to_expiry": ("경보 → 만료", "alert → expiry"),
    "m_notices": ("채널별 통지", "Notices per channel"),
    "m_sent": ("발송", "Sent"),
    "m_delivered": ("전달", "Delivered"),
    "m_failed": ("실패", "Failed"),
    "m_key_changes": ("키 상태 변경 (해당 월)", "Key status changes (in the month)"),
    "m_from": ("이전", "From"),
    "m_to": ("이후", "To"),
    "m_chart_weeks": ("주별 개시 사건과 현재 단계", "Cases opened by week, by where they stand"),
    "m_chart_time": ("조치까지 걸린 시간 분포", "Time-to-act distribution"),
    "m_total_opened": ("개시된 사건 수", "Cases opened"),
    "outcome": ("결론", "Outcome"),
    "why": ("종결 사유", "Why"),
    "first_told": ("이용자에게 처음 알린 시각", "Owner first told"),
    "key_expired": ("키 만료 시각", "Key expired"),
    "still_open": ("진행 중", "still open"),
}

_STAGES = {
    "MONITORING": ("집중 모니터링", "monitoring"),
    "WARNED": ("경고", "warned"),
    "AWAITING_KYC": ("재인증 대기", "awaiting KYC"),
    "OWNER_UNREACHABLE": ("이용자 연락 불가", "owner unreachable"),
    "PROBATION": ("관찰 기간", "probation"),
    "RESTORED": ("복구", "restored"),
    "CLEARED": ("혐의 없음 종결", "cleared"),
    "DISMISSED": ("기각", "dismissed"),
    "EXPIRED": ("강제 만료", "expired"),
}
_KINDS = {
    "key_sharing": ("키 공유·대여", "key sharing"),
    "ip_anomaly": ("IP 이상", "IP anomaly"),
    "spoofing": ("스푸핑", "spoofing"),
    "wash_trading": ("자전거래", "wash trading"),
    "coordinated_activity": ("공모 거래", "coordinated activity"),
    "other": ("기타", "other"),
}
_SEVERITIES = {
    "low": ("낮음", "low"),
    "medium": ("보통", "medium"),
    "high": ("높음", "high"),
    "critical": ("심각", "critical"),
}
SEVERITY_ORDER = tuple(_SEVERITIES)
_NOTICES = {
    "warning": ("경고 통지", "warning"),
    "kyc_reminder": ("재인증 알림", "KYC reminder"),
    "expiry": ("만료 통지", "expiry notice"),
    "restored": ("복구 통지", "restored notice"),
}
_CHANNELS = {"email": ("이메일", "e-mail"), "sms": ("문자(SMS)", "SMS")}
_DELIVERY = {
    "pending": ("대기", "pending"),
    "sent": ("발송", "sent"),
    "delivered": ("전달됨", "delivered"),
    "failed": ("실패", "failed"),
}
_ACTIONS = {
    "confirm": ("위험 확인", "confirm"),
    "dismiss": ("기각", "dismiss"),
    "expire_now": ("즉시 만료", "expire now"),
    "extend_kyc_deadline": ("재인증 기한 연장", "extend KYC deadline"),
    "assign": ("담당자 배정", "assign"),
    "add_note": ("메모", "note"),
}


# The ladder's stage-change reasons (domain.case_reactions), in Korean; others stay as written.
_REASONS_KO = {
    "case opened": "사건 개시",
    "re-verification failed": "본인 재인증 실패",
    "re-verification passed": "본인 재인증 통과",
    "quiet monitoring window ended": "모니터링 기간 중 추가 이상 없음",
    "no channel reached the owner; an officer decides": "이용자 연락 불가: 담당자 판단 필요",
}


def reason(text: str, lang: Lang) -> str:
    """A stage change's reason in `lang` where it is one of the ladder's own."""
    if lang != "ko":
        return text
    if text.startswith("warning sent by "):
        by = text.removeprefix("warning sent by ").replace("email", "이메일").replace("sms", "SMS")
        return f"경고 발송 완료 ({by.replace(' and ', ', ')})"
    return _REASONS_KO.get(text, text)


def _pick(table: Mapping[str, tuple[str, str]], value: str, lang: Lang) -> str:
    pair = table.get(value)
    if pair is None:
        return value
    return pair[0] if lang == "ko" else pair[1]


def label(name: str, lang: Lang) -> str:
    return _pick(_LABELS, name, lang)


def stage(value: str, lang: Lang) -> str:
    return _pick(_STAGES, value, lang)


def kind(value: str, lang: Lang) -> str:
    return _pick(_KINDS, value, lang)


def severity(value: str, lang: Lang) -> str:
    return _pick(_SEVERITIES, value, lang)


def notice_kind(value: str, lang: Lang) -> str:
    return _pick(_NOTICES, value.split(":", 1)[0], lang)


def channel(value: str, lang: Lang) -> str:
    return _pick(_CHANNELS, value, lang)


def delivery(value: str, lang: Lang) -> str:
    return _pick(_DELIVERY, value, lang)


def action(value: str, lang: Lang) -> str:
    return _pick(_ACTIONS, value, lang)


def _ko_en(lang: Lang, ko: str, en: str) -> str:
    return ko if lang == "ko" else en


def _channels(outcomes: Any, lang: Lang) -> str:
    if not isinstance(outcomes, list):
        return ""
    return ", ".join(
        f"{channel(str(o.get('channel')), lang)} {delivery(str(o.get('status')), lang)}"
        for o in outcomes
        if isinstance(o, dict)
    )


def _describe_alert(p: Mapping[str, Any], lang: Lang) -> str:
    what = f"{kind(str(p.get('kind')), lang)}, {severity(str(p.get('severity')), lang)}"
    alert_id = p.get("alert_id")
    return _ko_en(lang, f"경보 수신: {what} ({alert_id})", f"Alert received: {what} ({alert_id})")


def _describe_stage(p: Mapping[str, Any], lang: Lang) -> str:
    name = stage(str(p.get("stage")), lang)
    why = reason(str(p.get("reason")), lang)
    return _ko_en(lang, f"단계 변경 → {name} (사유: {why})", f"Stage → {name} ({why})")


def _describe_notice(p: Mapping[str, Any], lang: Lang) -> str:
    name = notice_kind(str(p.get("kind")), lang)
    sent = _channels(p.get("channels"), lang) or str(p.get("error") or "")
    return _ko_en(lang, f"통지 발송: {name} — {sent}", f"Notice sent: {name} — {sent}")


def _describe_delivery(p: Mapping[str, Any], lang: Lang) -> str:
    what = f"{channel(str(p.get('channel')), lang)} {delivery(str(p.get('status')), lang)}"
    detail = f" ({p['detail']})" if p.get("detail") else ""
    return _ko_en(lang, f"전달 확인: {what}{detail}", f"Delivery receipt: {what}{detail}")


def _describe_action(p: Mapping[str, Any], lang: Lang) -> str:
    name = action(str(p.get("action")), lang)
    extra = p.get("deadline") or p.get("assignee") or p.get("text")
    tail = f" [{extra}]" if extra else ""
    return _ko_en(
        lang,
        f"담당자 결정: {name} (사유: {p.get('reason')}){tail}",
        f"Officer: {name} ({p.get('reason')}){tail}",
    )


def _describe_kyc(p: Mapping[str, Any], lang: Lang) -> str:
    passed = bool(p.get("passed"))
    ko = "통과" if passed else "실패"
    en = "passed" if passed else "failed"
    ref = p.get("reference")
    return _ko_en(lang, f"본인 재인증 결과: {ko} (참조 {ref})", f"KYC result: {en} (ref {ref})")


def _describe_key(p: Mapping[str, Any], lang: Lang) -> str:
    move = f"{p.get('from')} → {p.get('to')}"
    return _ko_en(
        lang,
        f"키 상태 변경: {move} ({p.get('measure')})",
        f"Key status: {move} ({p.get('measure')})",
    )


def _describe_read_back(p: Mapping[str, Any], lang: Lang) -> str:
    usable = ", ".join(p.get("usable_permissions") or []) or label("none", lang)
    status, gateway = p.get("status"), p.get("gateway_reason")
    return _ko_en(
        lang,
        f"만료 재확인: 상태 {status}, 사용 가능 권한 {usable}, 게이트웨이 {gateway}",
        f"Expiry read back: status {status}, usable {usable}, gateway {gateway}",
    )


_DESCRIBE: dict[str, Callable[[Mapping[str, Any], Lang], str]] = {
    "case.opened": lambda p, lang: _ko_en(
        lang,
        f"사건 개시 (거래소 {p.get('exchange')}, 정책 {p.get('policy_version')})",
        f"Case opened (exchange {p.get('exchange')}, policy {p.get('policy_version')})",
    ),
    "alert.received": _describe_alert,
    "alert.passed_on": lambda p, lang: _ko_en(
        lang,
        f"종료 후 도착한 경보: 다음 사건에서 처리 ({p.get('alert_id')})",
        f"Alert after the end, passed to the next case ({p.get('alert_id')})",
    ),
    "stage.changed": _describe_stage,
    "notice.sent": _describe_notice,
    "notice.delivery": _describe_delivery,
    "officer.action": _describe_action,
    "kyc.result": _describe_kyc,
    "case.closed": lambda p, lang: _ko_en(
        lang,
        f"사건 종료: {stage(str(p.get('stage')), lang)}",
        f"Case closed: {stage(str(p.get('stage')), lang)}",
    ),
    "key.measure_failed": lambda p, lang: _ko_en(
        lang,
        f"키 조치 실패: {p.get('measure')} ({p.get('error')})",
        f"Key measure failed: {p.get('measure')} ({p.get('error')})",
    ),
    "key.status_changed": _describe_key,
    "key.status_unchanged": lambda p, lang: _ko_en(
        lang,
        f"키 상태 유지: {p.get('to')} ({p.get('measure')})",
        f"Key status unchanged: {p.get('to')} ({p.get('measure')})",
    ),
    "key.expiry_read_back": _describe_read_back,
    "store.refused": lambda p, lang: _ko_en(
        lang, "감사 기록이 거부한 사실 (개인정보 키)", "Facts the audit log refused (private keys)"
    ),
}


def describe(event_type: str, payload: Mapping[str, Any], lang: Lang) -> str:
    """What an audit row says, in words; unknown types show their name and payload."""
    words = _DESCRIBE.get(event_type)
    if words is None:
        return f"{event_type}: {dict(payload)}"
    return words(payload, lang)
