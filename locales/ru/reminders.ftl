## Reminders: expiry, security check-up, whereabouts, nudges, /reminders settings.

reminders-bundle-title = 🔔 Напоминания ({ $count }):
reminders-more = …и ещё { $count } — все ключи в /mykeys.

reminders-expiry-soon = ⏳ Ключ «{ $label }» истекает через { $days ->
        [one] { $days } день
        [few] { $days } дня
       *[many] { $days } дней
    } — { $date }. Продлите его онлайн на pki.gov.kz, пока он действует: после окончания срока онлайн-продление уже не работает.
reminders-expiry-today = ⚠️ Сегодня последний день ключа «{ $label }» ({ $date }). Если ключ ещё работает, продлите его онлайн на pki.gov.kz прямо сейчас: срок может закончиться в течение дня (время указано в сертификате). Уже не работает — оформите новую ЭЦП (egov.kz, pki.gov.kz или eGov Mobile).
reminders-expiry-expired = ❌ Срок ключа «{ $label }» истёк { $date }. Онлайн-продление больше не работает: оформите новую ЭЦП так же, как в первый раз (egov.kz, pki.gov.kz или eGov Mobile). Когда получите, нажмите «Продлил — новая дата».
btn-reminders-renewed = ✅ Продлил — новая дата
btn-reminders-snooze = ⏰ Напомнить завтра
btn-reminders-stop = 🔕 Не напоминать об этом ключе
btn-reminders-how-renew = 📘 Как продлить
btn-reminders-how-new = 📘 Что теперь делать

reminders-checkup = 🛡 Проверка безопасности. Откройте eGov Mobile (или личный кабинет на pki.gov.kz) и посмотрите, сколько ключей ЭЦП выпущено на ваше имя и какие услуги получены в последнее время. Всё в порядке?
btn-reminders-checkup-ok = 👍 Всё в порядке
btn-reminders-checkup-unknown = ⚠️ Вижу незнакомое

reminders-whereabouts = 🔎 Ключом «{ $label }» вы не пользовались { $days ->
        [one] { $days } день
        [few] { $days } дня
       *[many] { $days } дней
    }. Вы помните, где он лежит и какой у него пароль?
btn-reminders-where-ok = ✅ Да, помню
btn-reminders-where-lost = ❓ Не помню / потерял

reminders-nudge-password = 🔐 Ключ «{ $label }» получали в ЦОНе? Там часто ставили всем один и тот же пароль. Смените его на свой — это пара минут.
btn-reminders-password-done = ✅ Уже сменил(а)
btn-reminders-password-how = 📘 Как сменить пароль
reminders-nudge-sms = 📱 Привяжите номер телефона в личном кабинете egov.kz: придут SMS перед окончанием срока ключа и когда на ваше имя получают услуги.
btn-reminders-sms-how = 📘 Как подключить SMS
reminders-nudge-revoke = 🗑 Если остались старые ключи, которыми вы больше не пользуетесь, отзовите их: новый ключ старый не отменяет.
btn-reminders-revoke-how = 📘 Как отозвать ключ

reminders-snoozed = Хорошо, напомню завтра.
reminders-stopped = Больше не напоминаю о ключе «{ $label }». Если передумаете, измените ключ в /mykeys.
reminders-checkup-thanks = Отлично! Следующая проверка — { $date }.
reminders-checkup-thanks-off = Отлично, спасибо!
reminders-where-thanks = Отлично, отметил. Спрошу снова через { $days ->
        [one] { $days } день
        [few] { $days } дня
       *[many] { $days } дней
    }.
reminders-password-thanks = Отлично! Больше не напоминаю о пароле.
reminders-key-gone = Этого ключа уже нет в вашем списке.
reminders-unknown-intro = Если видите незнакомый ключ или услугу — действуйте сразу:
reminders-help-fallback = Подробная инструкция — на pki.gov.kz.

reminders-settings =
    <b>Напоминания</b>
    За сколько дней до окончания ключа: { $offsets }
    Время доставки: { $window } ({ $tz })
    Проверка безопасности: { $mode }
    Вне этого времени я ничего не присылаю.
reminders-mode-off = выключена
reminders-mode-monthly = раз в месяц
reminders-mode-quarterly = раз в квартал
btn-reminders-set-offsets = 📅 Дни напоминаний
btn-reminders-set-window = 🕙 Время доставки
btn-reminders-set-tz = 🌍 Часовой пояс
btn-reminders-mode-off = Проверка: выключить
btn-reminders-mode-monthly = Проверка: раз в месяц
btn-reminders-mode-quarterly = Проверка: раз в квартал
reminders-ask-offsets = Напишите через запятую, за сколько дней до окончания напоминать (от -1 до 90; 0 — в последний день, -1 — на следующий день). Например: 30, 14, 7, 3, 1, 0, -1
reminders-ask-window = Напишите, в какие часы можно присылать напоминания, например 10-20 или 09:30-18:00.
reminders-ask-tz = Напишите часовой пояс, например Asia/Almaty. Сейчас весь Казахстан живёт по UTC+5, так что обычно менять не нужно.
reminders-err-empty = Вы ничего не написали. Например: 30, 7, 1
reminders-err-not-a-number = Напишите только целые числа через запятую, например: 30, 7, 1
reminders-err-out-of-range = Числа должны быть от -1 до 90.
reminders-err-duplicate = Одно число повторяется. Напишите каждый день один раз.
reminders-err-format = Напишите время так: 10-20 или 09:30-18:00.
reminders-err-empty-window = Начало и конец совпадают. Чтобы получать в любое время, напишите 0-24.
reminders-err-unknown-tz = Такого часового пояса я не знаю. Например: Asia/Almaty.
reminders-saved = Сохранено. Напоминания пересчитаны.
btn-reminders-weekly_tips-on = 💡 Совет недели: включён (выключить)
btn-reminders-weekly_tips-off = 💡 Совет недели: выключен (включить)
btn-reminders-broadcasts_opt_in-on = 📣 Новости безопасности: включены (выключить)
btn-reminders-broadcasts_opt_in-off = 📣 Новости безопасности: выключены (включить)
