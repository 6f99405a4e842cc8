## Reminders: expiry, security check-up, whereabouts, nudges, /reminders settings.

reminders-bundle-title = 🔔 Еске салу ({ $count }):
reminders-more = …тағы { $count } — барлық кілттер /mykeys ішінде.

reminders-expiry-soon = ⏳ «{ $label }» кілтінің мерзімі { $days } күннен кейін — { $date } аяқталады. Кілт әлі жарамды кезде оны pki.gov.kz сайтында онлайн ұзартыңыз: мерзімі өткен соң онлайн ұзарту мүмкін емес.
reminders-expiry-today = ⚠️ Бүгін — «{ $label }» кілтінің соңғы күні ({ $date }). Кілт әлі істеп тұрса, оны дәл қазір pki.gov.kz сайтында онлайн ұзартыңыз: мерзімі күн ішінде бітуі мүмкін (уақыты сертификатта көрсетілген). Істемей қалса — жаңа ЭЦҚ рәсімдеңіз (egov.kz, pki.gov.kz не eGov Mobile).
reminders-expiry-expired = ❌ «{ $label }» кілтінің мерзімі { $date } аяқталды. Енді онлайн ұзарту жұмыс істемейді: жаңа ЭЦҚ-ны алғаш алғандағыдай рәсімдеңіз (egov.kz, pki.gov.kz немесе eGov Mobile). Алған соң «Ұзарттым — жаңа күні» батырмасын басыңыз.
btn-reminders-renewed = ✅ Ұзарттым — жаңа күні
btn-reminders-snooze = ⏰ Ертең еске сал
btn-reminders-stop = 🔕 Бұл кілт туралы еске салма
btn-reminders-how-renew = 📘 Қалай ұзартамын
btn-reminders-how-new = 📘 Енді не істеймін

reminders-checkup = 🛡 Қауіпсіздік тексерісі. eGov Mobile қосымшасын (немесе pki.gov.kz сайтындағы жеке кабинетті) ашып қараңыз: сіздің атыңызға қанша ЭЦҚ кілті берілген және соңғы кезде қандай қызметтер алынған. Бәрі дұрыс па?
btn-reminders-checkup-ok = 👍 Бәрі дұрыс
btn-reminders-checkup-unknown = ⚠️ Бейтаныс нәрсе көрдім

reminders-whereabouts = 🔎 «{ $label }» кілтін { $days } күн бойы қолданбапсыз. Оның қайда тұрғаны және құпиясөзі есіңізде ме?
btn-reminders-where-ok = ✅ Иә, есімде
btn-reminders-where-lost = ❓ Есімде жоқ / жоғалттым

reminders-nudge-password = 🔐 «{ $label }» кілтін ХҚО-да алдыңыз ба? Ол жерде көбіне бәріне бірдей құпиясөз қоятын. Оны өзіңіздікіне ауыстырыңыз — бұл бірнеше минуттық іс.
btn-reminders-password-done = ✅ Ауыстырып қойдым
btn-reminders-password-how = 📘 Құпиясөзді қалай ауыстырамын
reminders-nudge-sms = 📱 egov.kz жеке кабинетінде телефон нөміріңізді байланыстырыңыз: кілттің мерзімі бітер алдында және сіздің атыңызға қызмет алынғанда SMS келеді.
btn-reminders-sms-how = 📘 SMS-хабарламаны қалай қосамын
reminders-nudge-revoke = 🗑 Енді қолданбайтын ескі кілттеріңіз болса, оларды кері қайтарып алыңыз: жаңа кілт ескісін жоймайды.
btn-reminders-revoke-how = 📘 Кілтті қалай кері қайтарып аламын

reminders-snoozed = Жақсы, ертең еске саламын.
reminders-stopped = «{ $label }» кілті туралы енді еске салмаймын. Ойыңыз өзгерсе, кілтті /mykeys арқылы өзгертіңіз.
reminders-checkup-thanks = Тамаша! Келесі тексеріс — { $date }.
reminders-checkup-thanks-off = Тамаша, рақмет!
reminders-where-thanks = Жақсы, белгіледім. { $days } күннен кейін қайта сұраймын.
reminders-password-thanks = Тамаша! Құпиясөз туралы енді еске салмаймын.
reminders-key-gone = Бұл кілт тізіміңізде енді жоқ.
reminders-unknown-intro = Бейтаныс кілт не қызмет көрсеңіз, бірден әрекет етіңіз:
reminders-help-fallback = Толық нұсқаулық — pki.gov.kz сайтында.

reminders-settings =
    <b>Еске салу баптаулары</b>
    Кілт мерзімі біткенге дейін неше күн қалғанда: { $offsets }
    Жіберу уақыты: { $window } ({ $tz })
    Қауіпсіздік тексерісі: { $mode }
    Бұл уақыттан тыс ештеңе жібермеймін.
reminders-mode-off = өшірулі
reminders-mode-monthly = айына бір рет
reminders-mode-quarterly = тоқсанына бір рет
btn-reminders-set-offsets = 📅 Еске салу күндері
btn-reminders-set-window = 🕙 Жіберу уақыты
btn-reminders-set-tz = 🌍 Уақыт белдеуі
btn-reminders-mode-off = Тексеріс: өшіру
btn-reminders-mode-monthly = Тексеріс: ай сайын
btn-reminders-mode-quarterly = Тексеріс: тоқсан сайын
reminders-ask-offsets = Кілт мерзімі біткенге дейін неше күн қалғанда еске салу керегін үтір арқылы жазыңыз (-1-ден 90-ға дейін; 0 — соңғы күні, -1 — келесі күні). Мысалы: 30, 14, 7, 3, 1, 0, -1
reminders-ask-window = Еске салуларды қай сағаттар аралығында жіберуге болатынын жазыңыз, мысалы 10-20 немесе 09:30-18:00.
reminders-ask-tz = Уақыт белдеуін жазыңыз, мысалы Asia/Almaty. Қазір бүкіл Қазақстанда бір уақыт белдеуі — UTC+5, сондықтан әдетте өзгертудің қажеті жоқ.
reminders-err-empty = Ештеңе жазылмады. Мысалы: 30, 7, 1
reminders-err-not-a-number = Тек бүтін сандарды үтір арқылы жазыңыз, мысалы: 30, 7, 1
reminders-err-out-of-range = Сандар -1-ден 90-ға дейін болуы керек.
reminders-err-duplicate = Бір сан қайталанып тұр. Әр күнді бір рет жазыңыз.
reminders-err-format = Уақытты былай жазыңыз: 10-20 немесе 09:30-18:00.
reminders-err-empty-window = Басы мен соңы бірдей. Тәулік бойы алу үшін 0-24 деп жазыңыз.
reminders-err-unknown-tz = Мұндай уақыт белдеуін білмеймін. Мысалы: Asia/Almaty.
reminders-saved = Сақталды. Еске салулар қайта есептелді.
btn-reminders-weekly_tips-on = 💡 Апта кеңесі: қосулы (өшіру)
btn-reminders-weekly_tips-off = 💡 Апта кеңесі: өшірулі (қосу)
btn-reminders-broadcasts_opt_in-on = 📣 Қауіпсіздік жаңалықтары: қосулы (өшіру)
btn-reminders-broadcasts_opt_in-off = 📣 Қауіпсіздік жаңалықтары: өшірулі (қосу)
