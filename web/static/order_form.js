/* The order form's running figures, as lines are typed: each line's amount, the lines after
   their discounts, the whole-order discount or target total, the order's total, how far it is
   below the list price (and, for a role that sees costs, the margin at standard cost), and the
   customer's exposure with this order against its credit limit.

   It works from what the page embeds (#order-form-figures: prices, exposures, the server's own
   money format, translated sentences) and computes as the server does (workflows/rules/
   pricing.py): in exact decimals (BigInt cents, never floats), each amount rounded half up to
   the cent. Without it the form is the plain form it always was: the figures stay hidden.
   Under node (the tests) it exports orderFigures instead of touching a page. */
(function () {
  "use strict";

  // --- exact decimals: {n: BigInt digits, scale: number of decimals} ------------------------

  function parseDecimal(text) {
    var s = String(text == null ? "" : text).replace(/,/g, "").trim();
    if (!/^(\d+\.?\d*|\.\d+)$/.test(s)) return null;
    var parts = s.split(".");
    var decimals = parts[1] || "";
    return { n: BigInt((parts[0] || "0") + decimals), scale: decimals.length };
  }

  function pow10(k) {
    return 10n ** BigInt(k);
  }

  function abs(n) {
    return n < 0n ? -n : n;
  }

  // n / d rounded half up (away from zero), as Decimal's ROUND_HALF_UP.
  function divHalfUp(n, d) {
    var negative = n < 0n !== d < 0n;
    var q = (2n * abs(n) + abs(d)) / (2n * abs(d));
    return negative ? -q : q;
  }

  // n / d rounded half to even, as Decimal.quantize's default (the list total).
  function divHalfEven(n, d) {
    var q = n / d;
    var twice = 2n * (n % d);
    if (twice > d || (twice === d && q % 2n === 1n)) q += 1n;
    return q;
  }

  // A decimal in cents, half up.
  function cents(value) {
    return value.scale >= 2 ? divHalfUp(value.n, pow10(value.scale - 2))
      : value.n * pow10(2 - value.scale);
  }

  // --- the pricing rules, in cents -----------------------------------------------------------

  function lineNet(quantity, price, discount) {
    var factor = 100n * pow10(discount.scale) - discount.n;
    return divHalfUp(
      quantity.n * price.n * factor,
      pow10(quantity.scale + price.scale + discount.scale)
    );
  }

  // Split total over the weights, each part half up, the remainder on the largest (rules.spread).
  function spread(total, weights) {
    var sum = weights.reduce(function (a, w) { return a + w; }, 0n);
    var parts = weights.map(function (w) { return divHalfUp(total * w, sum); });
    var remainder = total - parts.reduce(function (a, p) { return a + p; }, 0n);
    var order = weights.map(function (w, i) { return i; }).sort(function (a, b) {
      return weights[a] === weights[b] ? a - b : (weights[b] > weights[a] ? 1 : -1);
    });
    for (var k = 0; k < order.length; k++) {
      var i = order[k];
      parts[i] += remainder;
      if (parts[i] >= 0n) break;
      remainder = parts[i];
      parts[i] = 0n;
    }
    return parts;
  }

  function priceLine(line, data) {
    var product = data.products[String(line.product_id || "")];
    if (!product) return null;
    var quantity = parseDecimal(line.quantity);
    var price = String(line.unit_price || "").trim() === ""
      ? parseDecimal(product.list_price) : parseDecimal(line.unit_price);
    var discount = String(line.discount_percent || "").trim() === ""
      ? { n: 0n, scale: 0 } : parseDecimal(line.discount_percent);
    if (!quantity || !price || !discount || quantity.n === 0n || price.n === 0n) return null;
    if (discount.n > 100n * pow10(discount.scale)) return null;
    var list = parseDecimal(product.list_price);
    var cost = product.standard_cost != null ? parseDecimal(product.standard_cost) : null;
    return {
      net: lineNet(quantity, price, discount),
      // quantity x list price, exact, in cents x 10^scale (summed, then rounded once)
      list: { n: quantity.n * list.n, scale: quantity.scale + list.scale },
      cost: cost ? cents({ n: quantity.n * cost.n, scale: quantity.scale + cost.scale }) : null
    };
  }

  function sumExact(values) {
    var scale = values.reduce(function (m, v) { return Math.max(m, v.scale); }, 2);
    var n = values.reduce(function (a, v) { return a + v.n * pow10(scale - v.scale); }, 0n);
    return divHalfEven(n, pow10(scale - 2));
  }

  // The figures of a form as typed: `input` has lines [{product_id, quantity, unit_price,
  // discount_percent}], adjustment (none, discount, target), order_discount_percent,
  // target_total and customer_id. Amounts are BigInt cents, percents BigInt hundredths; a
  // figure that cannot be computed (nothing typed, a bad number) is null.
  function orderFigures(input, data) {
    var priced = input.lines.map(function (line) {
      return String(line.product_id || "") === "" ? undefined : priceLine(line, data);
    });
    var valid = priced.filter(function (p) { return p; });
    var result = {
      lines: priced.map(function (p) { return p === undefined ? undefined : (p ? p.net : null); }),
      subtotal: null, orderDiscountPercent: null, orderDiscount: null, targetDifference: null,
      total: null, listTotal: null, belowListPercent: null, margin: null, marginPercent: null,
      exposure: null, creditLimit: null, withOrder: null, overLimit: null
    };
    var customer = data.customers[String(input.customer_id || "")];
    if (customer) {
      result.exposure = cents(parseDecimal(customer.exposure));
      result.creditLimit = cents(parseDecimal(customer.credit_limit));
    }
    if (!valid.length || valid.length !== priced.filter(function (p) { return p !== undefined; }).length) {
      return result;
    }
    var nets = valid.map(function (p) { return p.net; });
    var subtotal = nets.reduce(function (a, n) { return a + n; }, 0n);
    var amounts = nets;
    result.subtotal = subtotal;
    if (input.adjustment === "discount" && String(input.order_discount_percent || "").trim()) {
      var od = parseDecimal(input.order_discount_percent);
      if (!od || od.n > 100n * pow10(od.scale)) return result;
      var factor = 100n * pow10(od.scale) - od.n;
      amounts = nets.map(function (n) { return divHalfUp(n * factor, 100n * pow10(od.scale)); });
      result.orderDiscountPercent = divHalfUp(od.n * 100n, pow10(od.scale));
    } else if (input.adjustment === "target" && String(input.target_total || "").trim()) {
      var target = parseDecimal(input.target_total);
      if (!target || target.scale > 2 || target.n === 0n) return result;
      var targetCents = cents(target);
      if (targetCents > subtotal) return result;
      amounts = spread(targetCents, nets);
    }
    var total = amounts.reduce(function (a, n) { return a + n; }, 0n);
    var k = 0;
    result.lines = priced.map(function (p) { return p === undefined ? undefined : amounts[k++]; });
    if (result.orderDiscountPercent !== null) result.orderDiscount = total - subtotal;
    else if (total !== subtotal) result.targetDifference = total - subtotal;
    result.total = total;
    result.listTotal = sumExact(valid.map(function (p) { return p.list; }));
    if (result.listTotal > 0n) {
      result.belowListPercent = divHalfUp((result.listTotal - total) * 10000n, result.listTotal);
    }
    if (data.sees_costs && valid.every(function (p) { return p.cost !== null; }) && total > 0n) {
      var cost = valid.reduce(function (a, p) { return a + p.cost; }, 0n);
      result.margin = total - cost;
      result.marginPercent = divHalfUp(result.margin * 10000n, total);
    }
    if (customer) {
      result.withOrder = result.exposure + total;
      result.overLimit = result.withOrder > result.creditLimit;
    }
    return result;
  }

  // --- writing figures the server's way ------------------------------------------------------

  function grouped(digits, separator) {
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, separator);
  }

  function formatMoney(cents, formats) {
    if (cents === null || cents === undefined) return "—";
    var f = cents < 0n ? formats.negative_money : formats.money;
    var a = abs(cents);
    var fraction = String(a % 100n).padStart(2, "0");
    return f.prefix + grouped(String(a / 100n), f.group) + f.decimal + fraction + f.suffix;
  }

  function formatPercent(hundredths, formats) {
    if (hundredths === null || hundredths === undefined) return "—";
    var f = formats.percent;
    var a = abs(hundredths);
    var fraction = String(a % 100n).padStart(2, "0").replace(/0+$/, "");
    return f.prefix + (hundredths < 0n ? "-" : "") + grouped(String(a / 100n), f.group) +
      (fraction ? f.decimal + fraction : "") + f.suffix;
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  }

  // --- the page ------------------------------------------------------------------------------

  function start() {
    var embedded = document.getElementById("order-form-figures");
    var firstProduct = document.querySelector('select[name^="lines-"][name$="-product_id"]');
    if (!embedded || !firstProduct) return;
    var data = JSON.parse(embedded.textContent);
    var form = firstProduct.form;
    var table = firstProduct.closest("table");
    var footer = table.querySelector("tfoot.running-total");
    var card = document.getElementById("order-figures");
    var heading = table.querySelector("thead tr");
    var amountHeading = document.createElement("th");
    amountHeading.className = "num";
    amountHeading.textContent = data.texts.amount;
    heading.appendChild(amountHeading);
    var rows = Array.prototype.map.call(
      form.querySelectorAll('select[name^="lines-"][name$="-product_id"]'),
      function (select) {
        var cell = document.createElement("td");
        cell.className = "num line-amount";
        cell.style.verticalAlign = "middle";  // beside the inputs, not above them
        select.closest("tr").appendChild(cell);
        return { prefix: select.name.replace(/product_id$/, ""), cell: cell };
      }
    );

    function field(name) {
      var element = form.elements.namedItem(name);
      return element ? element.value : "";
    }

    function show(name, text) {
      form.ownerDocument.querySelectorAll('[data-figure="' + name + '"]').forEach(function (el) {
        el.textContent = text;
      });
    }

    // Hidden or shown, under the lines and in the card alike.
    function toggle(selector, hidden) {
      form.ownerDocument.querySelectorAll(selector).forEach(function (el) { el.hidden = hidden; });
    }

    function update() {
      var checked = form.querySelector('input[name="adjustment"]:checked');
      var figures = orderFigures({
        lines: rows.map(function (row) {
          return {
            product_id: field(row.prefix + "product_id"),
            quantity: field(row.prefix + "quantity"),
            unit_price: field(row.prefix + "unit_price"),
            discount_percent: field(row.prefix + "discount_percent")
          };
        }),
        adjustment: checked ? checked.value : "none",
        order_discount_percent: field("order_discount_percent"),
        target_total: field("target_total"),
        customer_id: field("customer_id")
      }, data);
      var f = data.formats;
      rows.forEach(function (row, i) {
        var amount = figures.lines[i];
        row.cell.textContent = amount === undefined ? "" : formatMoney(amount, f);
      });
      footer.querySelector(".figure-subtotal").hidden =
        figures.orderDiscount === null && figures.targetDifference === null;
      show("subtotal", formatMoney(figures.subtotal, f));
      toggle(".figure-order-discount", figures.orderDiscount === null);
      show("order-discount-percent", formatPercent(figures.orderDiscountPercent, f));
      show("order-discount", formatMoney(figures.orderDiscount, f));
      toggle(".figure-target", figures.targetDifference === null);
      show("target-difference", formatMoney(figures.targetDifference, f));
      show("order-total", formatMoney(figures.total, f));
      show("total", formatMoney(figures.total, f));
      var list = formatMoney(figures.listTotal, f);
      if (figures.belowListPercent !== null && figures.belowListPercent !== 0n) {
        var below = figures.belowListPercent > 0n;
        list += " · " + fill(data.texts[below ? "below_list" : "above_list"], {
          percent: formatPercent(abs(figures.belowListPercent), f)
        });
      }
      show("list-total", list);
      show("margin", figures.margin === null ? "—"
        : formatMoney(figures.margin, f) + " (" + formatPercent(figures.marginPercent, f) + ")");
      var credit = "—";
      if (figures.creditLimit !== null) {
        credit = formatMoney(figures.withOrder === null ? figures.exposure : figures.withOrder, f) +
          " / " + formatMoney(figures.creditLimit, f);
        if (figures.withOrder !== null) {
          credit += " (" + fill(data.texts.credit, {
            exposure: formatMoney(figures.exposure, f),
            order: formatMoney(figures.total, f),
            sum: formatMoney(figures.withOrder, f)
          }) + ")";
        }
      }
      show("credit", credit);
      var warning = card.querySelector('[data-figure="credit-warning"]');
      warning.hidden = !figures.overLimit;
      warning.textContent = figures.overLimit ? fill(data.texts.over_limit, {
        limit: formatMoney(figures.creditLimit, f),
        over: formatMoney(figures.withOrder - figures.creditLimit, f)
      }) : "";
      card.classList.toggle("over-limit", Boolean(figures.overLimit));
    }

    form.addEventListener("input", update);
    form.addEventListener("change", update);
    footer.hidden = false;
    card.hidden = false;
    update();
  }

  if (typeof module === "object" && module.exports) {
    module.exports = { orderFigures: orderFigures, formatMoney: formatMoney,
      formatPercent: formatPercent };
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
