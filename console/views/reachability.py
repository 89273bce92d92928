from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def reachability(request):
    return render(request, "console/reachability.html")
