from django.urls import path

from . import reports_views
from . import views as pages
from .api import checkout as checkout_api
from .api import history as history_api
from .api import reports as reports_api
from .api import returns as returns_api
from .api import sessions as sessions_api

urlpatterns: list = [
    path("api/v1/products", checkout_api.products, name="api-products"),
    # POST api/v1/checkout (checkout_api.checkout) is routed by ops.urls, under ops' rate limit.
    path("api/v1/sessions", sessions_api.sessions, name="api-sessions"),
    path("api/v1/sessions/current", sessions_api.session_current, name="api-session-current"),
    path("api/v1/sessions/<str:session_id>/movements", sessions_api.session_movements, name="api-session-movements"),
    path("api/v1/sessions/<str:session_id>/report", sessions_api.session_report, name="api-session-report"),
    path("api/v1/sessions/<str:session_id>/close", sessions_api.session_close, name="api-session-close"),
    path("api/v1/sales", history_api.sales, name="api-sales"),
    path("api/v1/sales/<str:sale_id>", history_api.sale_detail, name="api-sale-detail"),
    path("api/v1/sales/<str:sale_id>/void", returns_api.sale_void, name="api-sale-void"),
    path("api/v1/sales/<str:sale_id>/return-quote", returns_api.return_quote, name="api-sale-return-quote"),
    path("api/v1/returns", returns_api.returns, name="api-returns"),
    path("api/v1/reports/daily", reports_api.daily, name="api-reports-daily"),
    path("reports/", reports_views.reports_page, name="reports"),
    path("reports/sales.xlsx", reports_views.sales_xlsx, name="reports-sales-xlsx"),
    path("reports/sales.csv", reports_views.sales_csv, name="reports-sales-csv"),
    path("pos/", pages.pos_page, name="pos"),
    path("pos/sales/", pages.sales_page, name="pos-sales"),
    path("pos/sessions/<uuid:session_id>/report/", pages.session_report_page, name="pos-session-report"),
    path("pos/sessions/<uuid:session_id>/close/", pages.session_close_page, name="pos-session-close"),
    path("pos/receipts/<uuid:sale_id>/", pages.receipt_page, name="receipt"),
    path("pos/returns/<uuid:return_id>/", pages.return_receipt_page, name="return-receipt"),
    path("pos/sales/<uuid:sale_id>/return/", pages.sale_return_page, name="pos-sale-return"),
]
