from django.urls import path

from . import views as pages

urlpatterns: list = [
    path("pos/", pages.pos_page, name="pos"),
    path("pos/receipts/<uuid:sale_id>/", pages.receipt_page, name="receipt"),
]
