questions-fallback =
    Я не знаю ответа на этот вопрос — я отвечаю только на вопросы о ключах ЭЦП.
    Могу помочь с тем, как получить, продлить, хранить и отозвать ЭЦП; что делать, если забыли пароль, потеряли ключ, не приходят коды или столкнулись с мошенниками; про NCALayer, ключи AUTH/RSA, ЭЦП на удостоверении и в телефоне, ЭЦП для ИП и компаний, запрет на кредиты.
    Список тем — /faq.
    Я не официальный сервис. Официальная помощь: контакт-центр 1414 и pki.gov.kz.
questions-answered-in-other-language = <i>Вопрос был на русском, поэтому отвечаю по-русски. Язык бота меняется командой /language.</i>
questions-secret-warning =
    ⚠️ Похоже, в сообщении есть пароль, ИИН или код из SMS. Никому не сообщайте такие данные — ни боту, ни «сотрудникам», которые о них просят.
    Этот текст не сохранён. Если пароль или код мог попасть к посторонним, смените пароль или отзовите ключ на pki.gov.kz.
questions-faq-title = Частые вопросы об ЭЦП — выберите раздел:
questions-faq-section = { $section } — выберите тему:
btn-faq-section-getting = 📥 Получение и продление
btn-faq-section-protecting = 🛡 Хранение и защита
btn-faq-section-using = 🧩 Работа с ключом и сбои
btn-faq-section-loss-fraud = 🆘 Потеря и мошенничество
btn-faq-section-business-others = 🏢 Бизнес, ИП и особые случаи
btn-faq-section-about-bot = 🤖 О боте
btn-faq-sections = ◀️ Все разделы
btn-helpful = 👍
btn-not-helpful = 👎
questions-thanks-feedback = Спасибо за отзыв!
questions-already-rated = Вы уже оценили этот ответ.
questions-group-hint = Спросите меня об ЭЦП: упомяните меня или ответьте на моё сообщение.
stats-title = <b>Статистика вопросов</b>
stats-unanswered-title = Вопросы без ответа за 30 дней (анонимно):
stats-unanswered-line = • { $text } — { $count } раз
stats-unanswered-none = Вопросов без ответа нет.
stats-feedback-title = Оценки ответов по темам (👍 / 👎):
stats-feedback-line = • { $topic }: { $up } / { $down }
stats-feedback-none = Оценок пока нет.
questions-greeting = Здравствуйте! Спросите меня что-нибудь об ЭЦП — например, «как продлить ЭЦП?» или «что делать, если потерял флешку с ключом?». Все темы — /faq, мои команды — /help.
questions-thanks-reply = Пожалуйста! Берегите свои ключи 🔐
