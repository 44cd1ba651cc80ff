from django.urls import path

from . import api
from . import views as pages

urlpatterns: list = [
    path("api/v1/products", api.products, name="api-products"),
    path("api/v1/checkout", api.checkout, name="api-checkout"),
    path("pos/", pages.pos_page, name="pos"),
    path("pos/receipts/<uuid:sale_id>/", pages.receipt_page, name="receipt"),
]
