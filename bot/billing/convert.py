"""ORM rows -> DTOs (inside a session; the DTOs outlive it)."""
from __future__ import annotations

from typing import Dict, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.billing.dto import CorrectionDTO, CustomerDTO, DisputeDTO, InstallmentDTO, PaymentPlanDTO
from bot.billing.models import (
    Correction,
    Customer,
    Dispute,
    Invoice,
    PaymentPlan,
    PaymentPlanInstallment,
    PaymentPlanInvoice,
)


def customer_dto(customer: Customer) -> CustomerDTO:
    return CustomerDTO(
        id=customer.id, account_number=customer.account_number, name=customer.name, email=customer.email,
        phone=customer.phone, postal_code=customer.postal_code, customer_since=customer.customer_since)


def _numbers(session: Session, invoice_ids: Sequence[int]) -> Dict[int, str]:
    if not invoice_ids:
        return {}
    return dict(session.execute(select(Invoice.id, Invoice.number).where(Invoice.id.in_(set(invoice_ids)))).all())


def _account(session: Session, customer_id: int) -> str:
    return session.execute(select(Customer.account_number).where(Customer.id == customer_id)).scalar_one()


def correction_dtos(session: Session, corrections: Sequence[Correction]) -> list:
    numbers = _numbers(session, [c.invoice_id for c in corrections])
    disputes: Dict[int, str] = {}
    dispute_ids = {c.dispute_id for c in corrections if c.dispute_id}
    if dispute_ids:
        disputes = dict(session.execute(select(Dispute.id, Dispute.reference).where(Dispute.id.in_(dispute_ids))).all())
    accounts = {cid: _account(session, cid) for cid in {c.customer_id for c in corrections}}
    return [correction_dto(c, numbers[c.invoice_id], accounts[c.customer_id],
                           disputes.get(c.dispute_id) if c.dispute_id else None)
            for c in corrections]


def correction_dto(c: Correction, invoice_number: str, account_number: str,
                   dispute_reference: Optional[str]) -> CorrectionDTO:
    return CorrectionDTO(
        reference=c.reference, kind=c.kind, status=c.status, amount=c.amount, invoice_number=invoice_number,
        account_number=account_number, method=c.method, method_detail=c.method_detail,
        is_goodwill=bool(c.is_goodwill), reason=c.reason, expected_by=c.expected_by, created_at=c.created_at,
        dispute_reference=dispute_reference)


def correction_by_reference(session: Session, reference: str) -> Optional[CorrectionDTO]:
    """One query: the correction with its invoice number, account number and dispute reference."""
    found = session.execute(
        select(Correction, Invoice.number, Customer.account_number, Dispute.reference)
        .join(Invoice, Invoice.id == Correction.invoice_id).join(Customer, Customer.id == Correction.customer_id)
        .outerjoin(Dispute, Dispute.id == Correction.dispute_id)
        .where(Correction.reference == reference)).one_or_none()
    return correction_dto(*found) if found else None


def dispute_dto(session: Session, dispute: Dispute, account_number: Optional[str] = None,
                invoice_number: Optional[str] = None) -> DisputeDTO:
    return DisputeDTO(
        reference=dispute.reference, account_number=account_number or _account(session, dispute.customer_id),
        invoice_number=invoice_number or _numbers(session, [dispute.invoice_id])[dispute.invoice_id],
        reason_code=dispute.reason_code, reason=dispute.reason, disputed_amount=dispute.disputed_amount,
        status=dispute.status, outcome=dispute.outcome, resolved_amount=dispute.resolved_amount,
        created_at=dispute.created_at, resolved_at=dispute.resolved_at)


def dispute_by_reference(session: Session, reference: str) -> Optional[DisputeDTO]:
    """One query: the dispute with its account number and invoice number."""
    found = session.execute(
        select(Dispute, Customer.account_number, Invoice.number)
        .join(Customer, Customer.id == Dispute.customer_id).join(Invoice, Invoice.id == Dispute.invoice_id)
        .where(Dispute.reference == reference)).one_or_none()
    return dispute_dto(session, *found) if found else None


def payment_plan_dto(session: Session, plan: PaymentPlan) -> PaymentPlanDTO:
    installments = session.execute(
        select(PaymentPlanInstallment).where(PaymentPlanInstallment.plan_id == plan.id)
        .order_by(PaymentPlanInstallment.sequence)).scalars().all()
    invoice_ids = session.execute(
        select(PaymentPlanInvoice.invoice_id).where(PaymentPlanInvoice.plan_id == plan.id)).scalars().all()
    numbers = _numbers(session, invoice_ids)
    return PaymentPlanDTO(
        reference=plan.reference, account_number=_account(session, plan.customer_id), total_amount=plan.total_amount,
        status=plan.status,
        installments=tuple(InstallmentDTO(i.sequence, i.due_date, i.amount, i.status) for i in installments),
        invoice_numbers=tuple(sorted(numbers.values())), created_at=plan.created_at)


def payment_plan_by_reference(session: Session, reference: str) -> Optional[PaymentPlanDTO]:
    row = session.execute(select(PaymentPlan).where(PaymentPlan.reference == reference)).scalar_one_or_none()
    return payment_plan_dto(session, row) if row else None
